// The built app (playground and embed view) carries a Content-Security-Policy (meta tag, so it holds on any static server): no
// inline script, no eval, WebAssembly allowed. The playground must load, analyse and generate under it with no
// violation reported by the page, its workers or the console.
import { expect, test, type Page } from '@playwright/test';
import { appUrl, generate, setSampling, waitForAnalysis, waitForModel } from './helpers';

/** Collects CSP violations: the DOM's securitypolicyviolation events and Chromium's "Refused to ..." console lines. */
function watchViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (msg) => {
    if (/Content.Security.Policy|Refused to/i.test(msg.text())) violations.push(`console: ${msg.text()}`);
  });
  page.on('worker', (worker) =>
    worker.on('console', (msg) => {
      if (/Content.Security.Policy|Refused to/i.test(msg.text())) violations.push(`worker: ${msg.text()}`);
    }),
  );
  return violations;
}

async function recordDomViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    (window as unknown as { __csp: string[] }).__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
}

async function policyOf(page: Page): Promise<string> {
  return (await page.locator('meta[http-equiv=Content-Security-Policy]').getAttribute('content')) ?? '';
}

test('the app loads, analyses and generates under its Content-Security-Policy with no violation', async ({ page }) => {
  test.slow();
  const violations = watchViolations(page);
  await recordDomViolations(page);
  await page.goto(appUrl());
  const policy = await policyOf(page);
  expect(policy).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(policy).not.toContain("'unsafe-eval'");
  expect(policy).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  // The policy is in force, not only present: a string timer (eval's twin; Playwright's own evaluate is exempt from
  // CSP, so `eval` inside it proves nothing) and an inline script are both refused.
  const probe = await page.evaluate(async () => {
    const w = window as unknown as { __evalRan?: boolean; __inlineRan?: boolean };
    (setTimeout as unknown as (code: string, ms: number) => void)('window.__evalRan = true', 0);
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.head.append(s);
    // Two turns of the event loop: the string timer above, had it been allowed, has run by now.
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    return { evalRan: w.__evalRan === true, inlineRan: w.__inlineRan === true };
  });
  expect(probe).toEqual({ evalRan: false, inlineRan: false });
  // Those two refusals were ours; everything after them must run clean.
  await page.evaluate(() => ((window as unknown as { __csp: string[] }).__csp.length = 0));
  violations.length = 0;

  await waitForAnalysis(page);
  await setSampling(page, 4, 3);
  const out = await generate(page);
  expect(out.baseline.length).toBeGreaterThan(0);
  expect(out.steered.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
  expect(violations).toEqual([]);
});

test('the embed view carries the same policy and loads under it, also through the old embed.html link', async ({ page }) => {
  test.slow();
  const violations = watchViolations(page);
  await recordDomViolations(page);
  // The old address's forwarder has a policy of its own (its script is a file, not inline) and runs under it.
  await page.goto(appUrl('v=1&n=4', 'embed.html'));
  await expect(page).toHaveURL(/\/index\.html\?embed&v=1&n=4/);
  expect(await policyOf(page)).toContain("script-src 'self' 'wasm-unsafe-eval'");
  await waitForModel(page);
  expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
  expect(violations).toEqual([]);
});
