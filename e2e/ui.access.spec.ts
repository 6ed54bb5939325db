/** Signing in as an operator would, in Chromium, on the defaults (no anonymous access). */
import { ADMIN, expect, test } from "./fixtures/secured";

test("a page asks for sign-in, returns to where it was, shows who is signed in; the audit log lists it", async ({
  page,
}) => {
  await page.goto("/history?range=8h");
  await expect(page).toHaveURL(/\/login\?next=%2Fhistory%3Frange%3D8h$/);
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill("wrong-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("sign-in-error")).toHaveText(/wrong username or password/);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/history\?range=8h$/);
  await expect(page.getByTestId("signed-in-as")).toHaveText("admin · admin");

  await page.getByRole("link", { name: "Access" }).click();
  await expect(page).toHaveURL(/\/settings\/access$/);
  const audit = page.getByTestId("audit-row");
  const action = (name: string) => audit.filter({ has: page.getByRole("cell", { name, exact: true }) });
  await expect(action("login_failed").first()).toBeVisible();
  await expect(action("login").filter({ hasText: "admin" }).first()).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=%2F$/);
});
