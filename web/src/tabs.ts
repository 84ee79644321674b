// A minimal accessible tab set (WAI-ARIA tabs pattern): buttons with role=tab in a role=tablist,
// each controlling one role=tabpanel; arrow keys, Home and End move between tabs.

let nextId = 0;

export class Tabs {
  readonly list: HTMLElement;
  readonly panels: HTMLElement;
  private readonly tabs: HTMLButtonElement[] = [];
  private readonly bodies: HTMLElement[] = [];
  private selected = -1;

  constructor(
    label: string,
    private readonly onSelect: (index: number) => void = () => {},
  ) {
    this.list = document.createElement('div');
    this.list.setAttribute('role', 'tablist');
    this.list.setAttribute('aria-label', label);
    this.list.className = 'tablist';
    this.list.addEventListener('keydown', (e) => this.onKey(e));
    this.panels = document.createElement('div');
    this.panels.className = 'tabpanels';
  }

  get count(): number {
    return this.tabs.length;
  }

  get current(): number {
    return this.selected;
  }

  /** Adds a tab and returns its (empty) panel. */
  add(title: string): HTMLElement {
    const id = `tab-${nextId++}`;
    const tab = document.createElement('button');
    tab.type = 'button';
    tab.id = id;
    tab.setAttribute('role', 'tab');
    tab.textContent = title;
    const panel = document.createElement('div');
    panel.id = `${id}-panel`;
    panel.setAttribute('role', 'tabpanel');
    panel.setAttribute('aria-labelledby', id);
    panel.tabIndex = 0;
    tab.setAttribute('aria-controls', panel.id);
    const index = this.tabs.length;
    tab.addEventListener('click', () => this.select(index));
    this.tabs.push(tab);
    this.bodies.push(panel);
    this.list.append(tab);
    this.panels.append(panel);
    this.render();
    return panel;
  }

  tab(index: number): HTMLButtonElement {
    return this.tabs[index];
  }

  select(index: number): void {
    if (index < 0 || index >= this.tabs.length) return;
    this.selected = index;
    this.render();
    this.onSelect(index);
  }

  private render(): void {
    this.tabs.forEach((tab, i) => {
      const on = i === this.selected;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on || (this.selected < 0 && i === 0) ? 0 : -1;
      this.bodies[i].hidden = !on;
    });
  }

  private onKey(e: KeyboardEvent): void {
    const n = this.tabs.length;
    const moves: Record<string, number> = { ArrowRight: this.selected + 1, ArrowLeft: this.selected - 1 + n, Home: 0, End: n - 1 };
    if (!(e.key in moves) || n === 0) return;
    e.preventDefault();
    const to = moves[e.key] % n;
    this.select(to);
    this.tabs[to].focus();
  }
}
