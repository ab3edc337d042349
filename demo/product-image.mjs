// The demo's product pictures: drawn as SVG from an item's department, subcategory, brand and name,
// so that the shop needs nothing from the internet and every product looks its own.

/** A hue per department, and a motif drawn in the middle of the picture. */
const DEPARTMENTS = {
  Running: { hue: 12, motif: 'M-26 14 C-20 -4 -6 -12 10 -10 L24 -2 C30 2 30 10 22 12 Z' },
  Outdoor: { hue: 140, motif: 'M-30 18 L0 -22 L30 18 Z M-6 18 L0 6 L6 18 Z' },
  Kitchen: { hue: 32, motif: 'M-22 -6 H18 V10 C18 20 -22 20 -22 10 Z M18 -2 C30 -2 30 10 18 10' },
  'Home Office': { hue: 210, motif: 'M-28 -16 H28 V10 H-28 Z M-8 10 V18 H8 V10 M-16 18 H16' },
  Beauty: { hue: 330, motif: 'M-8 -20 H8 V-10 H-8 Z M-14 -10 H14 V20 H-14 Z' },
  Audio: { hue: 265, motif: 'M-24 8 V-2 C-24 -26 24 -26 24 -2 V8 M-28 4 H-18 V20 H-28 Z M18 4 H28 V20 H18 Z' },
  Kids: { hue: 48, motif: 'M-20 -20 H0 V0 H-20 Z M2 -6 H22 V14 H2 Z M-14 2 H2 V18 H-14 Z' },
  Garden: {
    hue: 95,
    motif: 'M0 20 V-4 M0 -4 C-20 -6 -22 -22 -20 -24 C-4 -22 0 -12 0 -4 C0 -12 6 -22 20 -24 C22 -20 18 -6 0 -4',
  },
};

/** A number from a string, the same on every run. */
function hash(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

const escapeXml = (text) =>
  String(text).replace(
    /[&<>"']/gu,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

/**
 * The picture of `item` (a catalog entry): a background in its department's hue, shifted per
 * subcategory, a motif, and the brand's initial in a badge.
 */
export function productImage(item) {
  const [department = '', sub = ''] = item.category ?? [];
  const style = DEPARTMENTS[department] ?? { hue: hash(department) % 360, motif: 'M-20 -20 H20 V20 H-20 Z' };
  const hue = (style.hue + (hash(sub) % 40) - 20 + 360) % 360;
  const variant = hash(item.id);
  const rotate = (variant % 30) - 15;
  const scale = 1.6 + (variant % 7) / 10;
  const light = 88 - (variant % 12);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" role="img" aria-label="${escapeXml(item.name ?? item.id)}">
  <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue} 60% ${light}%)"/><stop offset="1" stop-color="hsl(${(hue + 25) % 360} 55% ${light - 14}%)"/></linearGradient></defs>
  <rect width="200" height="200" fill="url(#g)"/>
  <circle cx="${40 + (variant % 120)}" cy="${30 + ((variant >> 8) % 40)}" r="${30 + (variant % 25)}" fill="hsl(${hue} 70% 96%)" opacity="0.35"/>
  <g transform="translate(100 104) rotate(${rotate}) scale(${scale})" fill="hsl(${hue} 45% 38%)" stroke="hsl(${hue} 50% 22%)" stroke-width="1.6" stroke-linejoin="round"><path d="${style.motif}"/></g>
  <circle cx="168" cy="168" r="20" fill="hsl(${hue} 35% 25%)"/>
  <text x="168" y="175" text-anchor="middle" font-family="system-ui, sans-serif" font-size="20" font-weight="700" fill="#fff">${escapeXml((item.brand ?? '?').slice(0, 1))}</text>
</svg>`;
}
