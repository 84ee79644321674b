// The result of one document: a tab per page, and in each page the views Markdown (rendered,
// sanitised), Page (image with block boxes) and Raw text. Pages can arrive one at a time (jobs);
// pages not yet done show as waiting. Page images are loaded on first view and their object URLs
// revoked when the view is cleared.
import { pageWithBoxes } from './boxes';
import { renderMarkdown } from './markdown';
import { Tabs } from './tabs';
import type { PageResult } from './types';

/** Gives the page image of page `index` as a URL, or null when there is none. */
export type ImageSource = (index: number) => Promise<string | null>;

const VIEWS = ['Markdown', 'Page', 'Raw text'] as const;

interface PageSlot {
  panel: HTMLElement;
  result?: PageResult;
  views?: Tabs;
  imagePanel?: HTMLElement;
  imageShown?: boolean;
}

export class ResultsView {
  private pageTabs: Tabs | null = null;
  private slots: PageSlot[] = [];
  private urls: string[] = [];
  private view = 0; // the view chosen last, kept when switching pages
  private images: ImageSource = async () => null;

  constructor(private readonly root: HTMLElement) {}

  /** Starts a new document of `total` pages (0 when unknown: tabs are added as pages arrive). */
  reset(total: number, images: ImageSource): void {
    this.urls.forEach((u) => URL.revokeObjectURL(u));
    this.urls = [];
    this.slots = [];
    this.images = images;
    this.pageTabs = new Tabs('Pages', (i) => this.showPage(i));
    this.root.replaceChildren(this.pageTabs.list, this.pageTabs.panels);
    for (let i = 0; i < total; i++) this.ensureSlot(i);
  }

  clear(): void {
    this.reset(0, async () => null);
    this.pageTabs = null;
    this.root.replaceChildren();
  }

  /** Adds or replaces the result of one page. */
  setPage(page: PageResult): void {
    if (!this.pageTabs || !Number.isInteger(page.index) || page.index < 0 || page.index > 100000) return;
    const slot = this.ensureSlot(page.index);
    if (slot.result) return; // a finished page does not change
    slot.result = page;
    const tab = this.pageTabs.tab(page.index);
    tab.classList.remove('waiting');
    tab.classList.toggle('failed', Boolean(page.error));
    tab.textContent = `Page ${page.index + 1}`;
    this.fill(slot, page);
    if (this.pageTabs.current < 0) this.pageTabs.select(page.index);
  }

  private ensureSlot(index: number): PageSlot {
    while (this.slots.length <= index) {
      const n = this.slots.length;
      const panel = this.pageTabs!.add(`Page ${n + 1} …`);
      this.pageTabs!.tab(n).classList.add('waiting');
      const waiting = document.createElement('p');
      waiting.className = 'muted';
      waiting.textContent = `Page ${n + 1} is not done yet.`;
      panel.append(waiting);
      this.slots.push({ panel });
    }
    return this.slots[index];
  }

  private fill(slot: PageSlot, page: PageResult): void {
    const views = new Tabs(`Views of page ${page.index + 1}`, (v) => {
      this.view = v;
      if (v === 1) void this.showImage(slot);
    });
    slot.views = views;
    const [md, image, raw] = VIEWS.map((name) => views.add(name));
    const parts: Node[] = [];
    if (page.error) parts.push(errorNote(page.error));
    parts.push(views.list, views.panels);
    slot.panel.replaceChildren(...parts);

    const body = document.createElement('div');
    body.className = 'markdown';
    body.append(renderMarkdown(page.markdown ?? page.text ?? ''));
    md.append(body);
    slot.imagePanel = image;
    const pre = document.createElement('pre');
    pre.className = 'raw';
    pre.textContent = page.raw || page.text || '';
    raw.append(pre);
    views.select(this.view);
  }

  private showPage(index: number): void {
    const slot = this.slots[index];
    if (slot?.views && slot.views.current !== this.view) slot.views.select(this.view);
  }

  private async showImage(slot: PageSlot): Promise<void> {
    if (slot.imageShown || !slot.result || !slot.imagePanel) return;
    slot.imageShown = true;
    const page = slot.result;
    const panel = slot.imagePanel;
    let url: string | null = null;
    try {
      url = await this.images(page.index);
    } catch (e) {
      panel.append(errorNote(`page image: ${(e as Error).message}`));
    }
    if (url?.startsWith('blob:')) this.urls.push(url);
    panel.append(pageWithBoxes(url, page.blocks ?? [], page.width, page.height));
  }
}

function errorNote(error: PageResult['error']): HTMLElement {
  const p = document.createElement('p');
  p.className = 'error';
  p.setAttribute('role', 'alert');
  const message = typeof error === 'string' ? error : `${error?.kind ?? 'error'}: ${error?.message ?? ''}`;
  p.textContent = `This page failed: ${message}`;
  return p;
}
