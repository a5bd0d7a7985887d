import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSEParser } from '../../dist/index.js';
import { bytes } from '../helpers.mjs';

function parseAll(pieces) {
  const p = new SSEParser();
  const out = [];
  for (const piece of pieces) out.push(...p.push(piece));
  const end = p.end();
  out.push(...end.events);
  return { data: out.map((e) => e.data), incomplete: end.incomplete };
}

test('LF, CRLF and CR line endings all delimit events', () => {
  for (const eol of ['\n', '\r\n', '\r']) {
    const { data } = parseAll([`data: a${eol}${eol}data: b${eol}${eol}`]);
    assert.deepEqual(data, ['a', 'b'], JSON.stringify(eol));
  }
});

test('a CRLF split between two pieces yields no phantom blank line', () => {
  // "data: a\r" | "\ndata: b\r\n\r\n": if the split CRLF counted as two line ends, "a" would be dispatched alone.
  const { data } = parseAll([bytes('data: a\r'), bytes('\ndata: b\r\n\r\n')]);
  assert.deepEqual(data, ['a\nb']);
});

test('every byte in its own piece gives the same events as one piece', () => {
  const text = 'data: {"x":"é世🎉"}\r\n\r\n: comment\r\nevent: e\r\ndata: line1\r\ndata: line2\r\n\r\n';
  const whole = parseAll([bytes(text)]);
  const tiny = parseAll([...bytes(text)].map((b) => new Uint8Array([b])));
  assert.deepEqual(tiny.data, whole.data);
  assert.deepEqual(whole.data, ['{"x":"é世🎉"}', 'line1\nline2']);
});

test('comments and unknown fields are ignored, and "data:" without a space keeps its value', () => {
  const { data } = parseAll(['retry: 10\n: hi\nfoo: bar\ndata:x\n\n']);
  assert.deepEqual(data, ['x']);
});

test('an event without its closing blank line is dispatched at the end and flagged incomplete', () => {
  const r = parseAll(['data: [DONE]']);
  assert.deepEqual(r.data, ['[DONE]']);
  assert.equal(r.incomplete, true);
});

test('a clean end reports nothing incomplete', () => {
  const r = parseAll(['data: a\n\n']);
  assert.equal(r.incomplete, false);
});
