// The in-store till: a system without the SDK. A sale goes to the shop's backend (the demo server's
// /demo/pos/sale), which posts it to the sync server's channel API with the operator token; the
// shopper's devices take it at their next sync.
import { catalogIndex, el, money } from '../shared/shop.js';

const { items, byId, departments } = await catalogIndex();
const basket = [];
let department = departments[0]?.name;
const $ = (id) => document.getElementById(id);

function renderProducts() {
  $('departments').replaceChildren(
    ...departments.map(({ name }) => {
      const chip = el('a', { href: '#', 'aria-current': name === department ? 'page' : undefined }, name);
      chip.addEventListener('click', (event) => {
        event.preventDefault();
        department = name;
        renderProducts();
      });
      return chip;
    }),
  );
  $('products').replaceChildren(
    ...items
      .filter((item) => item.category[0] === department)
      .map((item) => {
        const button = el(
          'button',
          { type: 'button', class: 'card', 'data-item-id': item.id },
          el('img', { src: item.image, alt: '', width: '120', height: '120' }),
          el('span', { class: 'name' }, item.name),
          el('span', { class: 'meta' }, `${item.brand} · ${money(item.price)}`),
        );
        button.addEventListener('click', () => {
          basket.push(item.id);
          renderBasket();
        });
        return el('li', {}, button);
      }),
  );
}

function renderBasket() {
  $('basket').replaceChildren(...basket.map((id) => el('li', {}, byId.get(id).name)));
  $('total').textContent = money(basket.reduce((sum, id) => sum + byId.get(id).price, 0));
  $('pay').disabled = basket.length === 0;
}

$('pay').addEventListener('click', async () => {
  const user = $('customer').elements.user;
  if (!user.reportValidity()) return;
  const response = await fetch('/demo/pos/sale', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: user.value, itemIds: basket }),
  });
  const result = await response.json();
  $('receipt').textContent = response.ok
    ? `Sold to ${user.value}: ${basket.length} item(s), order ${result.orderId}. Their devices see it at their next sync.`
    : `Not sent: ${result.error?.message ?? response.status}`;
  if (response.ok) {
    basket.length = 0;
    renderBasket();
  }
});

renderProducts();
renderBasket();
