// The demo shop's own code: it knows nothing about the SDK except the documented markup and calls.
const catalog = await (await fetch('./catalog.json')).json();
const byId = new Map(catalog.map((item) => [item.id, item]));
const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

function card(item) {
  const li = document.createElement('li');
  li.className = 'card';
  const link = document.createElement('a');
  link.href = `#/product/${item.id}`;
  link.setAttribute('data-omnipersona-card', item.id);
  link.innerHTML = '<span class="swatch"></span><span class="name"></span><span class="meta"></span>';
  link.querySelector('.swatch').dataset.category = item.category[0];
  link.querySelector('.name').textContent = item.name;
  link.querySelector('.meta').textContent = `${item.brand} · ${item.category[0]} · ${money.format(item.price)}`;
  li.append(link);
  return li;
}

document.getElementById('grid').replaceChildren(...catalog.map(card));

function route() {
  const section = document.getElementById('product');
  const match = /^#\/product\/(.+)$/u.exec(location.hash);
  const item = match ? byId.get(decodeURIComponent(match[1])) : undefined;
  if (!item) {
    section.hidden = true;
    section.replaceChildren();
    return;
  }
  // Marking the product this view is about is all the SDK needs to record a product view.
  const article = document.createElement('article');
  article.setAttribute('data-omnipersona-item', JSON.stringify(item));
  article.innerHTML = '<h2></h2><p class="meta"></p><button type="button">Add to cart</button>';
  article.querySelector('h2').textContent = item.name;
  article.querySelector('.meta').textContent =
    `${item.brand} · ${item.category.join(' › ')} · ${money.format(item.price)}`;
  article.querySelector('button').addEventListener('click', () => omnipersona('track', { type: 'add_to_cart', item }));
  section.replaceChildren(article);
  section.hidden = false;
}
window.addEventListener('hashchange', route);
route();

async function refreshPanel() {
  if (typeof window.omnipersona.status !== 'function') return;
  const status = await window.omnipersona.status();
  const set = (id, text) => {
    document.getElementById(id).textContent = text;
  };
  set('status-backend', status.backend ?? 'not loaded yet');
  set('status-storage', status.storage);
  set('status-events', String(status.events));
  set('status-model', status.modelVersion === undefined ? '–' : `v${status.modelVersion}`);
  if (status.lastTraining) {
    const t = status.lastTraining;
    set(
      'status-training',
      `${t.examples} examples, loss ${t.initialLoss.toFixed(3)} → ${t.loss.toFixed(3)} (${t.backend})`,
    );
  }
  if (status.lastSync) {
    const s = status.lastSync;
    set(
      'status-sync',
      s.pushed ? `update sent, server at v${s.receipt.version}` : s.skipped ? `skipped (${s.skipped})` : 'up to date',
    );
  }
}

omnipersona('on', 'trained', refreshPanel);
omnipersona('on', 'synced', refreshPanel);
omnipersona('on', 'tracked', () => setTimeout(refreshPanel, 400));
setInterval(refreshPanel, 2000);
