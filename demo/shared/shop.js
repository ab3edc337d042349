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

/** What the SDK is told about a product: its catalog entry's fields that describe it. */
export function itemInput(item) {
  const { id, name, category, brand, price, url, image } = item;
  return { id, name, category, brand, price, url, image };
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

/**
 * The channel's shopper account: `signIn(userId)` asks the shop's backend (the demo server) for a
 * shopper token and passes both to `identify` (the SDK keeps the token in memory); `signIn(undefined)`
 * signs out. The signed-in id is remembered per channel, and signed in again by `resume()`.
 */
export function shopperAccount(channel, identify) {
  const key = `omnipersona-demo-user:${channel}`;
  async function signIn(userId) {
    if (userId === undefined) {
      localStorage.removeItem(key);
      await identify(undefined);
      return;
    }
    const response = await fetch('/demo/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId }),
    });
    const { token } = await response.json();
    localStorage.setItem(key, userId);
    await identify(userId, { token });
  }
  const userId = () => localStorage.getItem(key) ?? undefined;
  return {
    signIn,
    userId,
    async resume() {
      const remembered = userId();
      if (remembered) await signIn(remembered);
    },
  };
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
