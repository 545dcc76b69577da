/**
 * The default theme, with the chapters made live (book/page.ts) after every page is shown. The
 * exercise stubs are bundled as text, for the editors the chapters open.
 */

import { inBrowser, useRoute, withBase } from "vitepress";
import DefaultTheme from "vitepress/theme";
import { nextTick, onMounted, watch } from "vue";
import { enhanceChapter } from "../../../book/page.ts";
import "./book.css";

const stubs = Object.fromEntries(
  Object.entries(
    import.meta.glob<string>("../../../exercises/*.ts", { query: "?raw", import: "default", eager: true }),
  ).map(([path, text]) => [path.replace(/^.*\/(\d\d-[\w-]+)\.ts$/, "$1"), text]),
);

function enhance(): void {
  const content = document.querySelector<HTMLElement>(".vp-doc");
  if (content === null) return;
  enhanceChapter(content, { stubs, mnist: new URL(withBase("/mnist/"), location.href).href });
}

export default {
  extends: DefaultTheme,
  setup() {
    if (!inBrowser) return;
    const route = useRoute();
    onMounted(() => enhance());
    watch(
      () => route.path,
      () => nextTick(() => enhance()),
    );
  },
};
