// Light or dark: the system's choice until the user picks one, remembered in localStorage. The
// choice is applied to the document as soon as it is made, so components that read theme colours
// (charts) see the new ones when they react to `currentTheme()`.
export type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const saved = localStorage.getItem('fas-theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

let theme: Theme = $state(initialTheme());
document.documentElement.dataset.theme = theme;

export function currentTheme(): Theme {
  return theme;
}

export function setTheme(next: Theme): void {
  theme = next;
  document.documentElement.dataset.theme = next;
  localStorage.setItem('fas-theme', next);
}

/** A CSS custom property of the current theme, e.g. themeColor('--accent'). */
export function themeColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
