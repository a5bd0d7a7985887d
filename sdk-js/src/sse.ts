/**
 * Incremental Server-Sent Events parser.
 *
 * Bytes go in through `push()` in whatever pieces the network delivers; complete
 * events come out. It follows the WHATWG event-stream rules that matter here:
 * lines end with CRLF, LF or CR (a CR at the end of a piece is held back until
 * the next piece shows whether an LF follows); `data:` lines of one event are
 * joined with `\n`; a blank line dispatches the event; lines starting with `:`
 * are comments. UTF-8 is decoded with a streaming `TextDecoder`, so a
 * multi-byte character split across pieces is decoded correctly.
 */

export interface SSEEvent {
  event: string | undefined;
  data: string;
  id: string | undefined;
}

export class SSEParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  /** The previous piece ended with a CR: an LF at the start of the next belongs to it. */
  private pendingCR = false;
  private dataLines: string[] = [];
  private eventName: string | undefined;
  private lastId: string | undefined;

  /** Feeds raw bytes (or already-decoded text); returns the events completed by them. */
  push(chunk: Uint8Array | string): SSEEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    return this.feed(text);
  }

  /**
   * Ends the input. Returns a last event if the stream ended without the blank
   * line that should close it (lenient: it is dispatched anyway), and whether
   * anything was left incomplete.
   */
  end(): { events: SSEEvent[]; incomplete: boolean } {
    const events = this.feed(this.decoder.decode());
    let incomplete = false;
    if (this.buffer !== '') {
      // A last line without its line ending.
      this.processLine(this.buffer, events);
      this.buffer = '';
      incomplete = true;
    }
    if (this.dataLines.length > 0) {
      events.push(this.flushEvent());
      incomplete = true;
    }
    this.pendingCR = false;
    return { events, incomplete };
  }

  private feed(text: string): SSEEvent[] {
    const events: SSEEvent[] = [];
    if (text === '') return events;
    let start = 0;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (text.charCodeAt(0) === 10 /* \n */) start = 1;
    }
    let buf = this.buffer + text.slice(start);
    this.buffer = '';
    let pos = 0;
    for (;;) {
      let i = pos;
      const len = buf.length;
      while (i < len) {
        const c = buf.charCodeAt(i);
        if (c === 10 || c === 13) break;
        i++;
      }
      if (i >= len) break;
      const line = buf.slice(pos, i);
      if (buf.charCodeAt(i) === 13) {
        if (i + 1 < len) {
          pos = buf.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
        } else {
          this.pendingCR = true;
          pos = i + 1;
        }
      } else {
        pos = i + 1;
      }
      this.processLine(line, events);
    }
    this.buffer = buf.slice(pos);
    buf = '';
    return events;
  }

  private processLine(line: string, events: SSEEvent[]): void {
    if (line === '') {
      if (this.dataLines.length > 0) events.push(this.flushEvent());
      else this.eventName = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return; // comment
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32 /* space */) value = value.slice(1);
    }
    switch (field) {
      case 'data':
        this.dataLines.push(value);
        break;
      case 'event':
        this.eventName = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        break; // `retry` and unknown fields are ignored
    }
  }

  private flushEvent(): SSEEvent {
    const ev: SSEEvent = { event: this.eventName, data: this.dataLines.join('\n'), id: this.lastId };
    this.dataLines = [];
    this.eventName = undefined;
    return ev;
  }
}
