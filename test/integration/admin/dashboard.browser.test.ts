// The dashboard in real Chromium (Debian's /usr/bin/chromium driven by playwright-core): it asks for the token
// once, shows a saga inserted during the test reach `completed` without a reload, and retries a dead letter.
// Leaves screenshots in test-artifacts/ (dashboard-dead-letter.png, dashboard.png, dashboard-narrow.png,
// dashboard-timeline.png).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TOKEN, startAdminFixture, type AdminFixture } from './admin-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const skip = process.env.SAGASTREAM_SKIP_BROWSER === '1';

/**
 * Run in the page (a string: these tests are compiled without the DOM library): what is cut off — an
 * `updated` cell narrower than its text or outside its panel, a step label narrower than its text, a bar
 * label outside its track or under another bar of its lane.
 */
const CLIPPED_TEXT = `(() => {
  const problems = [];
  const outside = (inner, outer) => {
    const a = inner.getBoundingClientRect();
    const b = outer.getBoundingClientRect();
    return a.left < b.left - 0.5 || a.right > b.right + 0.5;
  };
  for (const cell of document.querySelectorAll('#sagas tbody td:nth-child(5)')) {
    if (cell.scrollWidth > cell.clientWidth) problems.push('updated cut: ' + cell.textContent);
    if (outside(cell, cell.closest('.panel'))) problems.push('updated hidden: ' + cell.textContent);
  }
  for (const name of document.querySelectorAll('#timeline .tl-name, #timeline .tl-name small')) {
    if (name.scrollWidth > name.clientWidth) problems.push('step label cut: ' + name.textContent);
  }
  for (const label of document.querySelectorAll('#timeline .bar-label')) {
    if (label.hidden) continue;
    if (outside(label, label.closest('.tl-track'))) problems.push('bar label cut: ' + label.textContent);
    const own = label.closest('.bar');
    const box = label.getBoundingClientRect();
    for (const bar of label.closest('.tl-track').querySelectorAll('.bar')) {
      if (bar === own || bar.getAttribute('data-phase') !== own.getAttribute('data-phase')) continue;
      const other = bar.getBoundingClientRect();
      if (box.right > other.left + 0.5 && box.left < other.right - 0.5) {
        problems.push('bar label covered: ' + label.textContent);
      }
    }
  }
  return problems;
})()`;

describe.skipIf(skip)('dashboard in Chromium', () => {
  let fixture: AdminFixture;
  let browser: BrowserContext;
  let userDataDir: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install it (apt-get install -y chromium) or set SAGASTREAM_SKIP_BROWSER=1`,
      );
    }
    fixture = await startAdminFixture({ token: TEST_TOKEN });
    userDataDir = await mkdtemp(join(tmpdir(), 'sagastream-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1400, height: 1000 },
    });
  });

  /** A new tab (its own session storage) past the token prompt. */
  async function openDashboard(page: Page): Promise<void> {
    await page.goto(fixture.url);
    await page.locator('#auth').waitFor({ state: 'visible' });
    await page.fill('#auth-token', TEST_TOKEN);
    await page.click('#auth button[type=submit]');
  }

  /** The `data-step` of each timeline row `rows` finds, in order. */
  async function stepsOf(rows: Locator): Promise<(string | null)[]> {
    return Promise.all((await rows.all()).map((row) => row.getAttribute('data-step')));
  }

  afterAll(async () => {
    await browser?.close();
    await fixture?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  it('shows sagas live and retries a dead letter', { timeout: 120_000 }, async () => {
    // A saga whose compensation fails: `failed`, with a dead letter, before the page opens.
    fixture.behaviour.compensationBroken = true;
    const broken = await fixture.startOrder('fail');
    await fixture.waitForStatus(broken._id, 'failed');
    await expect
      .poll(async () => (await fixture.runtime.operations.listDeadLetters()).map((entry) => entry.sagaId), {
        message: 'the dead letter',
      })
      .toContain(broken._id);
    const held = await fixture.startOrder('hold');

    const page = browser.pages()[0] ?? (await browser.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(fixture.url);

    // The API needs the token: the page asks once and keeps it for the tab.
    await page.locator('#auth').waitFor({ state: 'visible' });
    await page.fill('#auth-token', TEST_TOKEN);
    await page.click('#auth button[type=submit]');
    await page.locator('#conn[data-state=live]').waitFor();
    await page.locator(`#sagas tr[data-saga-id="${broken._id}"][data-status="failed"]`).waitFor();

    // A saga inserted now appears and reaches `completed` while the page stays open.
    const key = `live-${Date.now().toString(36)}`;
    await fixture.orders.insertOne({ _id: key, status: 'new', mode: 'ok' });
    const row = page.locator(`#sagas tr[data-key="${key}"]`);
    await row.waitFor();
    await page.locator(`#sagas tr[data-key="${key}"][data-status="completed"]`).waitFor();
    // Newest first by creation time, as the API lists them (saga ids tell no age): the live saga heads the list,
    // then the held one, then the broken one.
    const rows = page.locator('#sagas tbody tr');
    const firstKeys = await Promise.all([0, 1, 2].map((index) => rows.nth(index).getAttribute('data-key')));
    expect(firstKeys).toEqual([key, held.key, broken.key]);
    // The counts follow from the `stats` event pushed after the change.
    await page.locator('[data-count=completed]').filter({ hasNotText: /^0$/ }).waitFor();

    // Its timeline: one bar per step attempt.
    await row.click();
    await page.locator('#timeline .bar[data-phase=forward][data-outcome=completed]').nth(1).waitFor();
    expect(await page.locator('#timeline .tl-row').count()).toBe(2);

    // The failed saga's timeline shows its failed compensation; keep a picture with the dead letter listed.
    await page.locator(`#sagas tr[data-saga-id="${broken._id}"]`).click();
    await page.locator('#timeline .bar[data-phase=compensate][data-outcome=failed]').waitFor();
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-dead-letter.png'), fullPage: true });

    // Retrying the dead letter from the page redrives the compensation, which now succeeds.
    fixture.behaviour.compensationBroken = false;
    const deadLetter = page.locator(`#dead-letters tr[data-saga-id="${broken._id}"]`);
    await deadLetter.locator('button[data-action=retry]').click();
    await deadLetter.waitFor({ state: 'detached' });
    await page.locator(`#sagas tr[data-saga-id="${broken._id}"][data-status="compensated"]`).waitFor();
    await fixture.waitForStatus(broken._id, 'compensated');

    // The held saga shows a running attempt; the redriven one a completed compensation (kept in the picture).
    await page.locator(`#sagas tr[data-saga-id="${held._id}"]`).click();
    await page.locator('#timeline .bar[data-outcome=running]').waitFor();
    await page.locator(`#sagas tr[data-saga-id="${broken._id}"]`).click();
    await page.locator('#timeline .bar[data-phase=compensate][data-outcome=completed]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // A saga with a parallel group: its members' rows sit in one bracket, their bars on the same time axis.
    const kit = await fixture.runtime.operations.start('kits', { kit: 'k-1' });
    await fixture.waitForStatus(kit.saga._id, 'completed');
    await page.locator(`#sagas tr[data-saga-id="${kit.saga._id}"]`).click();
    const group = page.locator('#timeline .tl-group[data-group=prepare]');
    await group.locator('.tl-row[data-step=label] .bar[data-outcome=completed]').waitFor();
    expect(await stepsOf(group.locator('.tl-row'))).toEqual(['pack', 'label']);
    expect(await group.locator('.tl-group-name').textContent()).toBe('parallel · prepare');
    expect(await stepsOf(page.locator('#timeline > .tl-row'))).toEqual(['reserve', 'ship']);

    // The token stays for the tab: a reload goes straight to live data.
    await page.reload();
    await page.locator('#conn[data-state=live]').waitFor();
    expect(await page.locator('#auth').isVisible()).toBe(false);
    expect(pageErrors).toEqual([]);
  });

  it(
    'loads its lists at once, pages dead letters, and cuts off neither times nor timeline labels',
    { timeout: 120_000 },
    async () => {
      // 25 rejected orders (25 dead letters), a saga with a long key, one whose charge step fails three times
      // (a middle attempt with an approximate start) and one cancelled while its charge step runs.
      const rejectedKeys = Array.from({ length: 25 }, (_, index) => `rejected-${index}`);
      await fixture.db
        .collection<{ _id: string; status: string }>('orders')
        .insertMany(rejectedKeys.map((key) => ({ _id: key, status: 'new' })));
      const longKey = await fixture.startOrder('ok', `order-with-a-rather-long-key-${'x'.repeat(80)}`);
      fixture.behaviour.compensationBroken = false;
      const retried = await fixture.startOrder('error');
      const cancelled = await fixture.startOrder('hold');
      await fixture.waitForStep(cancelled._id, 'charge', 'running');
      await fixture.runtime.operations.cancel(cancelled._id);
      await fixture.waitForStatus(longKey._id, 'completed');
      await fixture.waitForStatus(retried._id, 'compensated');
      await expect
        .poll(async () => (await fixture.runtime.store.get(cancelled._id))?.steps[1]?.late, {
          timeout: 20_000,
        })
        .toBe(true);
      // The dead letter of the first test was retried: these 25 are all there are.
      await expect
        .poll(async () => (await fixture.runtime.operations.deadLetterPage({ limit: 1000 })).items.length)
        .toBe(rejectedKeys.length);

      // The event stream never answers: the lists still come, straight from the API.
      const quiet = await browser.newPage();
      await quiet.route('**/api/events**', () => undefined);
      await openDashboard(quiet);
      await quiet.locator(`#sagas tr[data-saga-id="${longKey._id}"]`).waitFor();
      await quiet.locator('#dead-letters tbody tr').nth(19).waitFor();
      expect(await quiet.locator('#conn').getAttribute('data-state')).not.toBe('live');
      expect(await quiet.locator('#dead-letters tbody tr').count()).toBe(20);
      expect(await quiet.locator('#dlq-shown').textContent()).toBe('showing 20 of 25');
      await quiet.click('#dlq-more');
      await expect.poll(() => quiet.locator('#dead-letters tbody tr').count()).toBe(25);
      await quiet.locator('#dlq-more').waitFor({ state: 'hidden' });
      const shownIds = await Promise.all(
        (await quiet.locator('#dead-letters tbody tr').all()).map((row) =>
          row.getAttribute('data-dead-letter-id'),
        ),
      );
      expect(new Set(shownIds).size).toBe(25);
      await quiet.close();

      const page = await browser.newPage();
      const failures: string[] = [];
      page.on('response', (response) => {
        if (response.status() === 404) failures.push(response.url());
      });
      await page.setViewportSize({ width: 1100, height: 900 });
      await openDashboard(page);
      await page.locator('#conn[data-state=live]').waitFor();
      await page.locator(`#sagas tr[data-saga-id="${retried._id}"]`).click();
      await page.locator('#timeline .bar[data-outcome=failed]').nth(2).waitFor();
      const approximate = page.locator('#timeline .bar[data-approximate=yes]');
      expect(await approximate.count()).toBe(1);
      expect(await approximate.getAttribute('title')).toMatch(/^attempt 2: failed, ~.*approximate start/);
      await page.locator('#approximate-note').waitFor();

      // Nothing cut off: the updated column lies inside its panel, step names and bar labels show in full.
      const clipped = () => page.evaluate<string[]>(CLIPPED_TEXT);
      expect(await clipped()).toEqual([]);
      expect(await page.locator('#timeline .bar-label:not([hidden])').count()).toBeGreaterThan(0);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-narrow.png'), fullPage: true });
      await page.locator('#detail').screenshot({ path: join(ARTIFACTS, 'dashboard-timeline.png') });

      await page.locator(`#sagas tr[data-saga-id="${cancelled._id}"]`).click();
      await page.locator('#timeline .bar[data-phase=forward][data-outcome=cancelled]').waitFor();
      expect(await page.locator('[data-step=charge] .tl-name small').textContent()).toMatch(/^cancelled/);
      expect(await clipped()).toEqual([]);
      await page.locator(`#sagas tr[data-saga-id="${longKey._id}"]`).click();
      await page.locator('#timeline .bar[data-outcome=completed]').nth(1).waitFor();
      expect(await clipped()).toEqual([]);
      expect(failures).toEqual([]);
      await page.close();
    },
  );
});
