// Text sizes for the layout, measured with a canvas in the fonts the SVG draws with.
import type { Measure } from '../diagram/geometry.ts';
import { FONTS } from '../diagram/svg.ts';

export function canvasMeasure(): Measure {
  const context = document.createElement('canvas').getContext('2d');
  const cache = new Map<string, { width: number; height: number }>();
  return (text, kind) => {
    const key = `${kind}\u0000${text}`;
    const known = cache.get(key);
    if (known !== undefined) return known;
    const font = FONTS[kind];
    let width = text.length * font.size * 0.62;
    if (context !== null) {
      context.font = `${font.weight} ${font.size}px ${FONTS.family}`;
      width = context.measureText(text).width;
    }
    const size = { width: Math.ceil(width) + 1, height: font.lineHeight };
    cache.set(key, size);
    return size;
  };
}
