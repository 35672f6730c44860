// A watch answer is one JSON object per line, in chunks that split lines anywhere (and UTF-8
// characters too). This turns the chunks back into whole lines.

export class LineSplitter {
  private readonly decoder = new TextDecoder();
  private rest = '';

  /** The complete lines in `chunk` (with what earlier chunks left over). */
  push(chunk: Uint8Array): string[] {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.filter((l) => l.trim() !== '');
  }

  /** What is left at the end of the stream (a last line without a newline). */
  end(): string[] {
    const last = this.rest + this.decoder.decode();
    this.rest = '';
    return last.trim() === '' ? [] : [last];
  }
}
