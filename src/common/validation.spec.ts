import { copyParsedJson } from './validation';

describe('copyParsedJson', () => {
  it('copies every own key, __proto__ included, without touching prototypes', () => {
    const parsed = JSON.parse('{"__proto__": {"x": 1}, "constructor": [1, {"valueOf": 2}], "a": null}');
    const copy = copyParsedJson(parsed);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(parsed));
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'constructor', 'a']);
    expect(copy.constructor).not.toBe(parsed.constructor);
  });

  it('copies nesting deeper than the stack', () => {
    let text = '{}';
    for (let i = 0; i < 50_000; i++) text = `{"a":${text}}`;
    let node = copyParsedJson(JSON.parse(text));
    let depth = 0;
    while (node.a) {
      node = node.a;
      depth++;
    }
    expect(depth).toBe(50_000);
  });
});
