// What the demo's shop channels share: the catalog, a cart, and a few DOM helpers. Nothing here
// knows about the SDK.

export const money = (value) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(value);

/** The catalog the demo server imported, by id, and its departments with their subcategories. */
export async function catalogIndex() {
  const items = await (await fetch('/catalog.json')).json();
  const departments = [];
  for (const item of items) {
    const [name, sub] = item.category;
    let department = departments.find((entry) => entry.name === name);
    if (!department) {
      department = { name, subcategories: [] };
      departments.push(department);
    }
    if (sub && !department.subcategories.includes(sub)) department.subcategories.push(sub);
  }
  return { items, byId: new Map(items.map((item) => [item.id, item])), departments };
}

/** An element with attributes (undefined ones left out) and children (strings become text). */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** A product card that links to its page; `data-omnipersona-card` lets the SDK see the click. */
export function productCard(item, href = `#/p/${item.id}`) {
  return el(
    'a',
    { class: 'card', href, 'data-omnipersona-card': item.id },
    el('img', { src: item.image, alt: '', loading: 'lazy', width: '160', height: '160' }),
    el('span', { class: 'name' }, item.name),
    el('span', { class: 'meta' }, `${item.brand} · ${money(item.price)}`),
    ...(item.inStock ? [] : [el('span', { class: 'reason' }, 'Out of stock')]),
  );
}

/** A cart in `localStorage`, one per channel. */
export function cartStore(channel) {
  const key = `omnipersona-demo-cart:${channel}`;
  const read = () => {
    try {
      return JSON.parse(localStorage.getItem(key) ?? '[]');
    } catch {
      return [];
    }
  };
  const write = (lines) => localStorage.setItem(key, JSON.stringify(lines));
  return {
    lines: read,
    count: () => read().reduce((sum, line) => sum + line.quantity, 0),
    add(id) {
      const lines = read();
      const line = lines.find((entry) => entry.id === id);
      if (line) line.quantity++;
      else lines.push({ id, quantity: 1 });
      write(lines);
    },
    remove(id) {
      write(read().filter((line) => line.id !== id));
    },
    clear() {
      write([]);
    },
  };
}
