// The web shop: plain pages that know nothing of the SDK beyond its documented markup
// (`data-omnipersona-*`) and the `omnipersona(...)` calls, as a shop using the script tag.

import { startPanel } from '../shared/panel.js';
import { cartStore, catalogIndex, el, itemInput, money, productCard, shopperAccount } from '../shared/shop.js';

const CHANNEL = 'web';
const { items, byId, departments } = await catalogIndex();
const cart = cartStore(CHANNEL);
const page = document.getElementById('page');

document
  .getElementById('departments')
  .replaceChildren(...departments.map(({ name }) => el('a', { href: `#/c/${encodeURIComponent(name)}` }, name)));
document.getElementById('search').addEventListener('submit', (event) => {
  event.preventDefault();
  location.hash = `#/search?q=${encodeURIComponent(event.currentTarget.elements.q.value.trim())}`;
});

/** A recommendation widget, exactly as a shop places one: attributes, and a template to fill. */
function widget(title, kind, attributes = {}) {
  const box = el('div', {
    'data-omnipersona-recs': kind,
    'data-count': '4',
    'data-template': '#rec-card',
    ...attributes,
  });
  return el('section', { class: `recs recs-${kind}` }, el('h2', {}, title), box);
}

const routes = [
  [/^#?\/?$/u, home],
  [/^#\/c\/([^/]+)(?:\/([^/]+))?$/u, category],
  [/^#\/p\/(.+)$/u, product],
  [/^#\/search\?q=(.*)$/u, search],
  [/^#\/cart$/u, cartPage],
  [/^#\/checkout$/u, checkout],
  [/^#\/thanks\/(.+)$/u, thanks],
];

function route() {
  for (const [pattern, render] of routes) {
    const match = pattern.exec(location.hash);
    if (match) {
      page.replaceChildren(
        ...render(...match.slice(1).map((part) => (part === undefined ? undefined : decodeURIComponent(part)))),
      );
      document.getElementById('cart-count').textContent = String(cart.count());
      window.scrollTo(0, 0);
      return;
    }
  }
  location.hash = '#/';
}

function home() {
  return [
    el(
      'section',
      { class: 'hero' },
      el('h1', {}, 'Good things, picked for you'),
      el('p', {}, 'Recommendations here are computed in your browser, from what you do in this shop.'),
    ),
    widget('Recommended for you', 'for-you', { 'data-count': '8', 'data-max-per-category': '3' }),
    widget('Trending', 'trending'),
    el(
      'section',
      { class: 'tiles' },
      el('h2', {}, 'Departments'),
      el(
        'div',
        { class: 'tile-grid' },
        ...departments.map(({ name, subcategories }) =>
          el(
            'a',
            { class: 'tile', href: `#/c/${encodeURIComponent(name)}` },
            el('strong', {}, name),
            el('span', {}, subcategories.join(' · ')),
          ),
        ),
      ),
    ),
    widget('Recently viewed', 'recently-viewed'),
  ];
}

function category(name, sub) {
  const department = departments.find((entry) => entry.name === name);
  if (!department) return [el('p', {}, 'No such department.')];
  const shown = items.filter((item) => item.category[0] === name && (!sub || item.category[1] === sub));
  return [
    el('h1', {}, sub ? `${name} › ${sub}` : name),
    el(
      'nav',
      { class: 'chips', 'aria-label': 'Subcategories' },
      el('a', { href: `#/c/${encodeURIComponent(name)}`, 'aria-current': sub ? undefined : 'page' }, 'All'),
      ...department.subcategories.map((entry) =>
        el(
          'a',
          {
            href: `#/c/${encodeURIComponent(name)}/${encodeURIComponent(entry)}`,
            'aria-current': entry === sub ? 'page' : undefined,
          },
          entry,
        ),
      ),
    ),
    widget(`For you in ${name}`, 'for-you', { 'data-category': name }),
    el('ul', { class: 'grid' }, ...shown.map((item) => el('li', {}, productCard(item)))),
  ];
}

function product(id) {
  const item = byId.get(id);
  if (!item) return [el('p', {}, 'No such product.')];
  const add = el(
    'button',
    { type: 'button', class: 'primary', disabled: item.inStock ? undefined : '' },
    item.inStock ? 'Add to cart' : 'Out of stock',
  );
  add.addEventListener('click', () => {
    cart.add(item.id);
    omnipersona('track', { type: 'add_to_cart', item: itemInput(item), quantity: 1 });
    document.getElementById('cart-count').textContent = String(cart.count());
    add.textContent = 'Added ✓';
  });
  // Marking what the page is about is all the SDK needs to record a product view.
  return [
    el(
      'article',
      { class: 'product', 'data-omnipersona-item': JSON.stringify(itemInput(item)) },
      el('img', { src: item.image, alt: item.name, width: '320', height: '320' }),
      el(
        'div',
        {},
        el(
          'p',
          { class: 'crumbs' },
          el('a', { href: `#/c/${encodeURIComponent(item.category[0])}` }, item.category[0]),
          ' › ',
          el(
            'a',
            { href: `#/c/${encodeURIComponent(item.category[0])}/${encodeURIComponent(item.category[1])}` },
            item.category[1],
          ),
        ),
        el('h1', {}, item.name),
        el('p', { class: 'brand' }, item.brand),
        el('p', { class: 'price' }, money(item.price)),
        add,
      ),
    ),
    widget('Often bought together', 'bought-together', { 'data-item': item.id }),
    widget('Similar', 'similar', { 'data-item': item.id }),
  ];
}

function search(query) {
  const words = query.toLowerCase().split(/\s+/u).filter(Boolean);
  const found = items.filter((item) => {
    const text = `${item.name} ${item.brand} ${item.category.join(' ')}`.toLowerCase();
    return words.every((word) => text.includes(word));
  });
  // The SDK records the search itself, from the search form.
  return [
    el('h1', {}, `${found.length} results for “${query}”`),
    el('ul', { class: 'grid' }, ...found.slice(0, 48).map((item) => el('li', {}, productCard(item)))),
    widget('You might like', 'for-you'),
  ];
}

function cartPage() {
  const lines = cart
    .lines()
    .map(({ id, quantity }) => ({ item: byId.get(id), quantity }))
    .filter((line) => line.item);
  if (lines.length === 0) return [el('h1', {}, 'Your cart is empty'), widget('Recommended for you', 'for-you')];
  const total = lines.reduce((sum, line) => sum + line.item.price * line.quantity, 0);
  const rows = lines.map(({ item, quantity }) => {
    const remove = el('button', { type: 'button' }, 'Remove');
    remove.addEventListener('click', () => {
      cart.remove(item.id);
      omnipersona('track', { type: 'remove_from_cart', item: itemInput(item), quantity });
      route();
    });
    return el(
      'tr',
      {},
      el('td', {}, el('a', { href: `#/p/${item.id}` }, item.name)),
      el('td', {}, String(quantity)),
      el('td', {}, money(item.price * quantity)),
      el('td', {}, remove),
    );
  });
  return [
    el('h1', {}, 'Your cart'),
    el(
      'table',
      { class: 'cart' },
      el('tbody', {}, ...rows),
      el('tfoot', {}, el('tr', {}, el('th', {}, 'Total'), el('td', {}), el('td', {}, money(total)), el('td', {}))),
    ),
    el('p', {}, el('a', { class: 'button primary', href: '#/checkout' }, 'Checkout')),
    widget('Goes with your cart', 'bought-together', { 'data-item': lines.at(-1).item.id }),
  ];
}

function checkout() {
  const lines = cart
    .lines()
    .map(({ id, quantity }) => ({ item: byId.get(id), quantity }))
    .filter((line) => line.item);
  if (lines.length === 0) return cartPage();
  const form = el(
    'form',
    { class: 'checkout' },
    el('label', {}, 'Name ', el('input', { name: 'name', required: '', autocomplete: 'name' })),
    el('label', {}, 'Address ', el('input', { name: 'address', required: '', autocomplete: 'street-address' })),
    el(
      'button',
      { type: 'submit', class: 'primary' },
      `Place order (${money(lines.reduce((sum, line) => sum + line.item.price * line.quantity, 0))})`,
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const orderId = `web-${Date.now().toString(36)}`;
    omnipersona('track', {
      type: 'purchase',
      orderId,
      currency: 'USD',
      items: lines.map(({ item, quantity }) => ({ item: itemInput(item), quantity, price: item.price })),
    });
    cart.clear();
    location.hash = `#/thanks/${orderId}`;
  });
  return [el('h1', {}, 'Checkout'), el('p', {}, 'A demo: nothing is charged or shipped.'), form];
}

function thanks(orderId) {
  return [
    el('h1', {}, 'Thank you!'),
    el('p', {}, `Order ${orderId} is placed.`),
    widget('Goes with what you bought', 'for-you'),
  ];
}

window.addEventListener('hashchange', route);
route();

// The call form works before the SDK has loaded too: the stub queues it.
const account = shopperAccount(CHANNEL, (...args) => omnipersona('identify', ...args));
await account.resume();

// The panel needs the SDK's methods, which arrive with it: wait for the first status.
omnipersona('status');
const ready = () => typeof window.omnipersona.status === 'function';
while (!ready()) await new Promise((resolve) => setTimeout(resolve, 100));
startPanel(document.getElementById('panel'), { op: window.omnipersona, channel: CHANNEL, ...account });
