// The page image with each block's box drawn over it as SVG. Boxes are in page pixels
// (docs/API.md); the SVG's viewBox is the page size, so it scales with the image.
import type { Block } from './types';

const SVG = 'http://www.w3.org/2000/svg';

/** Colour per label, stable across pages so the legend is easy to read. */
function colourFor(label: string): string {
  let hash = 0;
  for (const ch of label) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360} 80% 40%)`;
}

/**
 * Builds the figure. `imageUrl` may be null (no image available): the boxes are then drawn on
 * a blank page of `width` x `height`. Width/height fall back to the image's natural size.
 */
export function pageWithBoxes(
  imageUrl: string | null,
  blocks: Block[],
  width?: number,
  height?: number,
): HTMLElement {
  const figure = document.createElement('figure');
  figure.className = 'page-figure';
  const stage = document.createElement('div');
  stage.className = 'page-stage';
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'boxes');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${blocks.length} block boxes`);

  const caption = document.createElement('figcaption');
  const draw = (w: number, h: number) => {
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    svg.replaceChildren(...blocks.filter(validBox).map((b) => rectFor(b, Math.max(12, w / 50))));
    caption.textContent = `${blocks.length} block${blocks.length === 1 ? '' : 's'} · ${w} × ${h} px`;
  };

  if (imageUrl) {
    const img = document.createElement('img');
    img.alt = 'page image';
    img.src = imageUrl;
    img.addEventListener('load', () => draw(width || img.naturalWidth, height || img.naturalHeight));
    img.addEventListener('error', () => {
      img.remove();
      stage.classList.add('blank');
      stage.style.aspectRatio = `${width || 1} / ${height || 1}`;
      draw(width || 1, height || 1);
      caption.textContent += ' · the browser cannot show this image format';
    });
    stage.append(img);
  } else {
    stage.classList.add('blank');
    stage.style.aspectRatio = `${width || 1} / ${height || 1}`;
  }
  if (!imageUrl && width && height) draw(width, height);
  stage.append(svg);
  figure.append(stage, caption);
  return figure;
}

function validBox(b: Block): boolean {
  return Array.isArray(b.box) && b.box.length === 4 && b.box.every((v) => Number.isFinite(v));
}

function rectFor(block: Block, fontSize: number): SVGGElement {
  const [x1, y1, x2, y2] = block.box;
  const colour = colourFor(block.label || 'text');
  const g = document.createElementNS(SVG, 'g');
  g.setAttribute('class', 'block');
  const title = document.createElementNS(SVG, 'title');
  title.textContent = `${block.label}: ${block.text ?? ''}`.slice(0, 500);
  const rect = document.createElementNS(SVG, 'rect');
  rect.setAttribute('x', String(Math.min(x1, x2)));
  rect.setAttribute('y', String(Math.min(y1, y2)));
  rect.setAttribute('width', String(Math.abs(x2 - x1)));
  rect.setAttribute('height', String(Math.abs(y2 - y1)));
  rect.setAttribute('stroke', colour);
  rect.setAttribute('stroke-width', '2'); // screen pixels, thanks to non-scaling-stroke
  rect.setAttribute('fill', colour);
  rect.setAttribute('fill-opacity', '0.08');
  rect.setAttribute('vector-effect', 'non-scaling-stroke');
  const tag = document.createElementNS(SVG, 'text');
  tag.setAttribute('x', String(Math.min(x1, x2) + fontSize / 4));
  tag.setAttribute('y', String(Math.min(y1, y2) + fontSize));
  tag.setAttribute('font-size', String(fontSize));
  tag.setAttribute('fill', colour);
  tag.textContent = block.label;
  g.append(title, rect, tag);
  return g;
}
