// The three ways in: a drop on the drop zone, the file picker, and pasting an image (or a file
// copied in a file manager) anywhere on the page. Each hands exactly one File to `onFile`.

export function watchUploads(dropZone: HTMLElement, picker: HTMLInputElement, onFile: (file: File) => void): void {
  picker.addEventListener('change', () => {
    const file = picker.files?.[0];
    if (file) onFile(file);
    picker.value = ''; // choosing the same file again still fires `change`
  });

  dropZone.addEventListener('click', (e) => {
    if (e.target !== picker) picker.click();
  });
  dropZone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      picker.click();
    }
  });
  for (const type of ['dragenter', 'dragover'] as const) {
    dropZone.addEventListener(type, (e) => {
      e.preventDefault();
      dropZone.classList.add('over');
    });
  }
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
  dropZone.addEventListener('drop', (e) => {
    e.preventDefault();
    dropZone.classList.remove('over');
    const file = e.dataTransfer?.files?.[0];
    if (file) onFile(file);
  });

  document.addEventListener('paste', (e) => {
    const target = e.target as HTMLElement | null;
    if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA')) return; // typing a key or prompt
    const items = Array.from(e.clipboardData?.items ?? []);
    const item = items.find((i) => i.kind === 'file');
    const file = item?.getAsFile();
    if (!file) return;
    e.preventDefault();
    const named = file.name && file.name !== 'image.png' ? file : new File([file], pastedName(file.type), { type: file.type });
    onFile(named);
  });
}

function pastedName(type: string): string {
  const ext = type.split('/')[1]?.replace(/[^a-z0-9]/gi, '') || 'png';
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  return `pasted-${stamp}.${ext}`;
}
