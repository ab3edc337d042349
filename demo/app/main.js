// The app channel: a single-page app that imports the npm package and renders its own
// recommendations with `recommend()`, instead of the script tag's widgets.
import { createPersonalizer } from 'omnipersona';
import { startPanel } from '../shared/panel.js';
import { catalogIndex, el, itemInput, productCard, shopperAccount } from '../shared/shop.js';

const CHANNEL = 'app';
const op = createPersonalizer({
  endpoint: location.origin,
  site: 'demo-app',
  channel: CHANNEL,
  consent: 'synced',
  trainAfterEvents: 3,
  // The demo server serves the SDK's WASM binaries with the script tag's files.
  wasmPaths: '/sdk/wasm/',
});
window.op = op;
const { items, byId, departments } = await catalogIndex();
const page = document.getElementById('page');

/** A list of recommendations, drawn by the app itself from `recommend()`. */
function recommendations(title, request) {
  const list = el('ul', { class: 'grid', 'data-app-recs': request.kind });
  const section = el('section', { class: `recs recs-${request.kind}` }, el('h2', {}, title), list);
  const draw = async () => {
    const picks = await op.recommend(request);
    list.replaceChildren(
      ...picks.map(({ item, reason }) => {
        const card = productCard(byId.get(item.id) ?? { ...item, image: `/images/${item.id}.svg`, inStock: true });
        card.append(el('span', { class: 'reason' }, reason));
        return el('li', { 'data-item-id': item.id }, card);
      }),
    );
    op.shown(picks.map(({ item }) => item.id));
  };
  draw();
  const stop = op.on('changed', () => (section.isConnected ? draw() : stop()));
  return section;
}

function home() {
  return [
    el('h1', {}, 'For you'),
    recommendations('Picked for you', { kind: 'for-you', count: 8, maxPerCategory: 3 }),
    recommendations('Recently viewed', { kind: 'recently-viewed', count: 4 }),
  ];
}

function browse(department = departments[0]?.name) {
  return [
    el(
      'nav',
      { class: 'chips' },
      ...departments.map(({ name }) =>
        el(
          'a',
          { href: `#/browse/${encodeURIComponent(name)}`, 'aria-current': name === department ? 'page' : undefined },
          name,
        ),
      ),
    ),
    el(
      'ul',
      { class: 'grid' },
      ...items.filter((item) => item.category[0] === department).map((item) => el('li', {}, productCard(item))),
    ),
  ];
}

function product(id) {
  const item = byId.get(id);
  if (!item) return [el('p', {}, 'No such product.')];
  // The app tells the SDK what the shopper looks at: no page markup to read here.
  op.track({ type: 'view', item: itemInput(item) });
  const add = el('button', { type: 'button', class: 'primary' }, 'Add to bag');
  add.addEventListener('click', () => {
    op.track({ type: 'add_to_cart', item: itemInput(item), quantity: 1 });
    add.textContent = 'In your bag ✓';
  });
  return [
    el(
      'article',
      { class: 'product' },
      el('img', { src: item.image, alt: item.name }),
      el(
        'div',
        {},
        el('p', { class: 'crumbs' }, item.category.join(' › ')),
        el('h1', {}, item.name),
        el('p', { class: 'brand' }, item.brand),
        el(
          'p',
          { class: 'price' },
          new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(item.price),
        ),
        add,
      ),
    ),
    recommendations('Goes with it', { kind: 'bought-together', item: item.id, count: 4 }),
    recommendations('Similar', { kind: 'similar', item: item.id, count: 4 }),
  ];
}

function route() {
  const hash = location.hash;
  const match = /^#\/p\/(.+)$/u.exec(hash) ?? /^#\/browse(?:\/(.+))?$/u.exec(hash);
  const view = hash.startsWith('#/p/')
    ? product(decodeURIComponent(match[1]))
    : hash.startsWith('#/browse')
      ? browse(match?.[1] && decodeURIComponent(match[1]))
      : home();
  page.replaceChildren(...view);
  window.scrollTo(0, 0);
}
window.addEventListener('hashchange', route);
route();

const account = shopperAccount(CHANNEL, (userId, options) => op.identify(userId, options));
await account.resume();
startPanel(document.getElementById('panel'), { op, channel: CHANNEL, ...account });
