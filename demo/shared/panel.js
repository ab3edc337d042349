// The demo's device panel: what OmniPersona holds and does on this device, for one channel. It uses
// only the SDK's public calls (status, profile, on, setConsent, identify, forget, train, sync),
// passed in as `op`, so the same panel serves the script-tag shop and the npm-package app.

const CONSENT_TIERS = ['none', 'on-device', 'federated', 'synced'];
const CONSENT_HELP = {
  none: 'Nothing is stored; recommendations are generic.',
  'on-device': 'Events and the model stay on this device.',
  federated: 'Also sends anonymous model updates (clipped, compressed).',
  synced: 'Also syncs your history across your channels when signed in.',
};

/**
 * Renders the panel into `root` and keeps it current.
 * @param {HTMLElement} root
 * @param {{ op: object, channel: string, signIn: (userId: string | undefined) => Promise<void>, userId: () => string | undefined }} options
 */
export function startPanel(root, { op, channel, signIn, userId }) {
  const lossKey = `omnipersona-demo-loss:${channel}`;
  const losses = readLosses(lossKey);
  root.innerHTML = `
    <h2>On this device <small>${channel}</small></h2>
    <form class="signin" data-panel="signin">
      <label>Shopper <input name="user" autocomplete="off" placeholder="e.g. ana" pattern="[A-Za-z0-9._@+\\-]{1,64}" /></label>
      <button type="submit">Sign in</button>
      <span data-panel="who"></span>
      <button type="button" data-panel="signout" hidden>Sign out</button>
    </form>
    <label class="consent">Consent
      <select data-panel="consent">${CONSENT_TIERS.map((tier) => `<option value="${tier}">${tier}</option>`).join('')}</select>
    </label>
    <p class="hint" data-panel="consent-help"></p>
    <dl>
      <dt>Backend</dt><dd data-panel="backend">–</dd>
      <dt>Events stored</dt><dd data-panel="events">0</dd>
      <dt>Model version</dt><dd data-panel="model">–</dd>
      <dt>Last training</dt><dd data-panel="training">–</dd>
      <dt>Sync</dt><dd data-panel="sync">–</dd>
      <dt>Last update sent</dt><dd data-panel="update">–</dd>
    </dl>
    <figure class="loss">
      <figcaption>Training loss, per on-device training</figcaption>
      <svg data-panel="loss-chart" viewBox="0 0 240 80" role="img" aria-label="No training yet"></svg>
    </figure>
    <section class="profile">
      <h3>Your profile</h3>
      <p class="hint">What this device has learned from your activity, computed here and never sent as such. Remove an interest to delete the events behind it (on your other channels too, when synced), or delete everything.</p>
      <ol data-panel="profile"></ol>
      <p data-panel="profile-more" class="hint"></p>
      <div class="actions">
        <button type="button" data-panel="train">Train now</button>
        <button type="button" data-panel="sync-now">Sync now</button>
        <button type="button" data-panel="forget" class="danger">Delete my data</button>
      </div>
    </section>`;
  const $ = (name) => root.querySelector(`[data-panel="${name}"]`);
  const set = (name, text) => {
    $(name).textContent = text;
  };

  $('signin').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = event.currentTarget.elements.user;
    if (!input.value || !input.checkValidity()) return;
    await signIn(input.value);
    input.value = '';
    refresh();
  });
  $('signout').addEventListener('click', async () => {
    await signIn(undefined);
    refresh();
  });
  $('consent').addEventListener('change', async (event) => {
    await op.setConsent(event.currentTarget.value);
    refresh();
  });
  $('train').addEventListener('click', async () => {
    await op.train();
    refresh();
  });
  $('sync-now').addEventListener('click', async () => {
    await op.sync();
    refresh();
  });
  $('forget').addEventListener('click', async () => {
    await op.forget();
    losses.length = 0;
    localStorage.removeItem(lossKey);
    await signIn(undefined);
    refresh();
  });

  op.on('trained', (report) => {
    losses.push({ at: Date.now(), initial: report.initialLoss, loss: report.loss, examples: report.examples });
    localStorage.setItem(lossKey, JSON.stringify(losses.slice(-40)));
    refresh();
  });
  for (const name of ['synced', 'changed']) op.on(name, () => refresh());
  op.on('tracked', () => setTimeout(refresh, 300));

  let pending;
  async function refresh() {
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      render().catch((error) => console.error('panel', error));
    }, 50);
  }

  async function render() {
    const status = await op.status();
    const who = userId();
    set('who', who ? `signed in as ${who}` : 'not signed in');
    $('signout').hidden = !who;
    $('consent').value = status.consent;
    set(
      'consent-help',
      `${CONSENT_HELP[status.consent] ?? ''}${status.consentCappedBy ? ` Capped by ${status.consentCappedBy.toUpperCase()}.` : ''}`,
    );
    set('backend', status.backend ?? 'loads when needed');
    set('events', String(status.events + status.queued));
    set(
      'model',
      status.modelVersion === undefined
        ? '–'
        : status.modelVersion === 0
          ? 'built on this device'
          : `v${status.modelVersion} from the server`,
    );
    const t = status.lastTraining;
    set(
      'training',
      t
        ? `${t.examples} examples, loss ${t.initialLoss.toFixed(2)} → ${t.loss.toFixed(2)}, ${Math.round(t.milliseconds)} ms on ${t.backend}`
        : status.training
          ? 'training…'
          : '–',
    );
    const s = status.lastSync;
    set('sync', s ? syncText(s) : '–');
    if (s?.updateBytes)
      set('update', `${(s.updateBytes / 1024).toFixed(1)} KiB (server at v${s.receipt?.version ?? '?'})`);
    drawLosses($('loss-chart'), losses);
    await renderProfile();
  }

  async function renderProfile() {
    const profile = await op.profile();
    const list = $('profile');
    list.replaceChildren(
      ...profile.categories.slice(0, 5).map(({ category, share }) => {
        const li = document.createElement('li');
        li.dataset.category = category;
        li.innerHTML =
          '<span class="name"></span><span class="bar"><span></span></span><span class="share"></span><button type="button" class="remove">Remove</button>';
        li.querySelector('.name').textContent = category;
        li.querySelector('.bar span').style.width = `${Math.round(share * 100)}%`;
        li.querySelector('.share').textContent = `${Math.round(share * 100)}%`;
        const remove = li.querySelector('.remove');
        remove.setAttribute('aria-label', `Remove ${category} from my interests`);
        remove.addEventListener('click', async () => {
          remove.disabled = true;
          await op.forgetInterest(category);
          refresh();
        });
        return li;
      }),
    );
    const brands = profile.brands.slice(0, 3).map((entry) => entry.brand);
    const money = Object.entries(profile.monetary.spent).map(([currency, value]) => `${value.toFixed(2)} ${currency}`);
    set(
      'profile-more',
      profile.events === 0
        ? 'Nothing yet: browse a little.'
        : `${profile.events} events over ${profile.activity.sessions} sessions` +
            (brands.length ? `; brands: ${brands.join(', ')}` : '') +
            (money.length ? `; spent ${money.join(', ')}` : ''),
    );
  }

  refresh();
  setInterval(refresh, 3000);
  return { refresh };
}

function syncText(report) {
  const time = new Date(report.at).toLocaleTimeString();
  if (report.skipped) return `${time}: skipped (${report.skipped === 'consent' ? 'consent' : 'no server'})`;
  const parts = [
    report.pulled ? `model v${report.modelVersion} downloaded` : `model v${report.modelVersion ?? '?'} current`,
  ];
  if (report.pushed) parts.push('update sent');
  if (report.shopper) parts.push(`${report.shopper.pulled} events from other channels, ${report.shopper.pushed} sent`);
  return `${time}: ${parts.join(', ')}`;
}

function readLosses(key) {
  try {
    const stored = JSON.parse(localStorage.getItem(key) ?? '[]');
    return Array.isArray(stored) ? stored : [];
  } catch {
    return [];
  }
}

/** Before (light) and after (dark) loss of each training, as two lines. */
function drawLosses(svg, losses) {
  if (losses.length === 0) {
    svg.innerHTML = '<text x="120" y="44" text-anchor="middle">no training yet</text>';
    return;
  }
  const values = losses.flatMap((entry) => [entry.initial, entry.loss]);
  const top = Math.max(...values);
  const bottom = Math.min(0, ...values);
  const x = (index) => (losses.length === 1 ? 120 : 10 + (index * 220) / (losses.length - 1));
  const y = (value) => 70 - ((value - bottom) / (top - bottom || 1)) * 60;
  const line = (key) => losses.map((entry, index) => `${x(index).toFixed(1)},${y(entry[key]).toFixed(1)}`).join(' ');
  svg.setAttribute('aria-label', `Loss after the last training: ${losses.at(-1).loss.toFixed(2)}`);
  svg.innerHTML = `
    <polyline points="${line('initial')}" class="before" />
    <polyline points="${line('loss')}" class="after" />
    ${losses.map((entry, index) => `<circle cx="${x(index).toFixed(1)}" cy="${y(entry.loss).toFixed(1)}" r="2.5" class="after"><title>${entry.examples} examples: ${entry.initial.toFixed(2)} → ${entry.loss.toFixed(2)}</title></circle>`).join('')}
    <text x="236" y="10" text-anchor="end">${top.toFixed(1)}</text><text x="236" y="78" text-anchor="end">${bottom.toFixed(1)}</text>`;
}
