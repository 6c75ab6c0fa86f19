import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rocSvg } from '../bench/roc-svg.js';

/** Minimal well-formedness check: one root, every tag closed in order, attributes quoted, entities known. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const between = body.slice(last, m.index);
    assert.ok(!/[<>]/.test(between), `stray markup before ${m[0]}`);
    assert.ok(!/&(?!(amp|lt|gt|quot|apos);)/.test(between), 'unescaped &');
    last = m.index + m[0].length;
    const [, closing, name = '', , selfClosing] = m;
    if (stack.length === 0 && !closing) roots += 1;
    if (closing) assert.equal(stack.pop(), name);
    else if (!selfClosing) stack.push(name);
  }
  assert.ok(!/[<>]/.test(body.slice(last)), 'trailing markup');
  assert.deepEqual(stack, []);
  assert.equal(roots, 1);
}

describe('ROC SVG', () => {
  const points = Array.from({ length: 37 }, (_, i) => ({ far: 10 ** (-4 + i / 9), tar: Math.min(1, 0.5 + i / 60), threshold: 0.3 + i / 100 }));

  it('is well-formed XML with one polyline vertex per point', () => {
    const svg = rocSvg(points, { title: 'a & b <model>', mark: { threshold: 0.6, far: 0.01, tar: 0.9, label: 'default 0.6' } });
    assertWellFormedXml(svg);
    const polyline = /<polyline class="roc"[^>]* points="([^"]*)"/.exec(svg);
    assert.ok(polyline?.[1]);
    assert.equal(polyline[1].trim().split(/\s+/).length, points.length);
    assert.match(svg, /a &amp; b &lt;model&gt;/);
    assert.match(svg, /<circle /);
  });

  it('clamps FAR 0 to the axis floor instead of producing -Infinity', () => {
    const svg = rocSvg([{ far: 0, tar: 0.1, threshold: 0.1 }, ...points], { title: 't' });
    assert.doesNotMatch(svg, /Infinity|NaN/);
    assertWellFormedXml(svg);
  });
});
