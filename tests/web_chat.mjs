// Drives the web chat page in headless Chromium for tests/test_web.py and prints what it saw as one JSON line.
// Usage: node tests/web_chat.mjs <page url> <screenshot dir>
// It waits for each step (a timeout ends the run with exit 1 and the reason); the pytest side asserts on the
// observations. Debian's Chromium is driven by playwright-core from web/node_modules (no browser download).
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const require = createRequire(new URL("../web/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const [pageUrl, shots] = process.argv.slice(2);
const CHROMIUM = process.env.HARBOR_CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];
const STEP_MS = 60_000;
const HOSTILE = "<img src=x onerror=\"window.__pwned='img'\"> <script>window.__pwned='script'</script> " +
  "[click](javascript:window.__pwned='link') hello";

const responses = (page) => page.locator(".rw-messages-container .rw-response");
const texts = async (locator) => (await locator.allTextContents()).map((t) => t.trim());

/** Sends `text` through the widget's own input and waits for a new bot message. */
async function say(page, text) {
  const before = await responses(page).count();
  await page.locator(".rw-new-message").fill(text);
  await page.locator(".rw-new-message").press("Enter");
  await page.waitForFunction((n) => document.querySelectorAll(".rw-messages-container .rw-response").length > n,
    before, { timeout: STEP_MS });
}

/** Waits until the bot has been quiet for a moment (the widget spaces its messages out). */
async function settle(page) {
  let count = -1;
  for (;;) {
    const now = await page.locator(".rw-messages-container .rw-message").count();
    if (now === count) return;
    count = now;
    await page.waitForTimeout(1500);
  }
}

async function main() {
  const profile = mkdtempSync(path.join(tmpdir(), "harbor-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1000, height: 900 },
  });
  const seen = { dialogs: [], pageErrors: [], consoleErrors: [], externalLoaded: [] };
  try {
    const page = await context.newPage();
    page.on("dialog", (dialog) => { seen.dialogs.push(dialog.message()); dialog.dismiss(); });
    page.on("pageerror", (error) => seen.pageErrors.push(String(error)));
    // The widget's CSS imports Google Fonts; the page's CSP refuses it (nothing from a CDN), which Chromium logs.
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().includes("fonts.googleapis.com")) {
        seen.consoleErrors.push(message.text());
      }
    });
    page.on("requestfinished", (request) => {
      const url = new URL(request.url());
      if (url.protocol.startsWith("http") && !["127.0.0.1", "localhost"].includes(url.hostname)) {
        seen.externalLoaded.push(request.url());
      }
    });

    await page.goto(pageUrl);
    await page.waitForFunction(() => [...document.querySelectorAll(".rw-messages-container .rw-response")]
      .some((m) => m.textContent.includes("Harbor Lane")), null, { timeout: STEP_MS });
    seen.greeting = (await texts(responses(page)))[0];

    await say(page, "red running shoes");
    await page.waitForSelector(".rw-carousel-card", { timeout: STEP_MS });
    await settle(page);
    const cards = page.locator(".rw-carousel-card");
    seen.cards = [];
    for (let i = 0; i < await cards.count(); i++) {
      const card = cards.nth(i);
      seen.cards.push({
        title: (await card.locator(".rw-carousel-card-title").textContent()).trim(),
        subtitle: (await card.locator(".rw-carousel-card-subtitle").textContent()).trim(),
        image: await card.locator("img.rw-carousel-card-image").getAttribute("src"),
        buttons: await texts(card.locator(".rw-reply")),
      });
    }
    await page.screenshot({ path: path.join(shots, "results.png") });

    // Add the first card; answer each question the bot asks (size, colour) with its first quick reply.
    await cards.first().locator(".rw-reply", { hasText: "Add to cart" }).click();
    seen.questions = [];
    for (let round = 0; round < 4; round++) {
      await page.waitForFunction(() => {
        const last = [...document.querySelectorAll(".rw-messages-container .rw-message")].pop();
        return last && last.querySelector(".rw-response");
      }, null, { timeout: STEP_MS });
      await settle(page);
      const all = await texts(responses(page));
      if (all.some((t) => t.includes("Subtotal"))) break;
      const replies = page.locator(".rw-replies .rw-reply");
      if (await replies.count() === 0) break;
      seen.questions.push({ text: all[all.length - 1], choice: (await replies.first().textContent()).trim() });
      await replies.first().click();
    }
    await settle(page);
    seen.cart = (await texts(responses(page))).filter((t) => t.includes("Subtotal")).pop() || null;
    await page.screenshot({ path: path.join(shots, "cart.png") });

    seen.sessionBefore = await page.evaluate(() => JSON.parse(localStorage.getItem("chat_session")).session_id);
    seen.messagesBefore = await texts(page.locator(".rw-messages-container .rw-message"));
    await page.reload();
    await page.waitForSelector(".rw-carousel-card", { timeout: STEP_MS });
    await settle(page);
    seen.sessionAfter = await page.evaluate(() => JSON.parse(localStorage.getItem("chat_session")).session_id);
    seen.messagesAfter = await texts(page.locator(".rw-messages-container .rw-message"));
    await page.screenshot({ path: path.join(shots, "after-reload.png") });

    // After the reload the same conversation goes on: the bot still knows the cart.
    await say(page, "what's in my cart?");
    await settle(page);
    seen.cartAfterReload = (await texts(responses(page))).filter((t) => t.includes("Subtotal")).pop() || null;

    await say(page, HOSTILE);
    await settle(page);
    const mine = page.locator(".rw-messages-container .rw-client");
    seen.hostileShown = (await mine.last().textContent()).trim();
    seen.hostileElements = await page.locator(".rw-messages-container img[src='x'], .rw-messages-container script, " +
      ".rw-messages-container a[href^='javascript']").count();
    seen.pwned = await page.evaluate(() => window.__pwned || null);
    await page.screenshot({ path: path.join(shots, "escaping.png") });
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(seen) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
