// The dashboard in real Chromium (Debian's /usr/bin/chromium driven by playwright-core): it asks for the token
// once, shows a saga inserted during the test reach `completed` without a reload, and retries a dead letter.
// Leaves screenshots in test-artifacts/ (dashboard-dead-letter.png, dashboard.png).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TOKEN, startAdminFixture, type AdminFixture } from './admin-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const skip = process.env.SAGASTREAM_SKIP_BROWSER === '1';

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

    // The token stays for the tab: a reload goes straight to live data.
    await page.reload();
    await page.locator('#conn[data-state=live]').waitFor();
    expect(await page.locator('#auth').isVisible()).toBe(false);
    expect(pageErrors).toEqual([]);
  });
});
