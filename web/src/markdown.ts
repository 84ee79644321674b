// Model output is untrusted: Markdown is rendered by `marked`, then DOMPurify removes scripts,
// event handlers, javascript: URLs and the like, and the result is inserted as a DOM fragment
// (never through innerHTML on the live page). Images that would load from elsewhere are dropped
// to their alt text so that a page cannot make the browser call out.
import DOMPurify from 'dompurify';
import { marked } from 'marked';

let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'IMG') {
      const src = node.getAttribute('src') ?? '';
      if (!/^data:image\/(png|jpeg|gif|webp);/i.test(src)) {
        node.replaceWith(document.createTextNode(`[image: ${node.getAttribute('alt') ?? ''}]`));
      }
    }
    if (node.nodeName === 'A') {
      node.setAttribute('rel', 'noopener noreferrer nofollow');
      node.setAttribute('target', '_blank');
    }
  });
}

/** Markdown (tables may be HTML, as DeepSeek-OCR writes them) to a sanitised fragment. */
export function renderMarkdown(markdown: string): DocumentFragment {
  installHooks();
  const html = marked.parse(markdown, { async: false, gfm: true }) as string;
  return DOMPurify.sanitize(html, {
    RETURN_DOM_FRAGMENT: true,
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed'],
    FORBID_ATTR: ['style'],
  });
}
