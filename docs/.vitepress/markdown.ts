/**
 * What the site's Markdown needs beyond VitePress's own rendering, so that the chapters stay plain
 * Markdown that GitHub shows as well:
 *
 * - every ```ts block is wrapped in `.book-cell` (the page makes it runnable: book/page.ts);
 * - every ```text block right after `<!-- output of examples/NAME.ts -->` is wrapped in
 *   `.book-quote`, carrying the example's name, so the page can check it against a run;
 * - links out of docs/ (`../src/…`, `../examples/…`) point at the site's copy of those files under
 *   /source/, a link to an exercise's stub also says which exercise it is (`data-exercise`), and a
 *   link to the lab goes to the lab built beside the site.
 */
import type MarkdownIt from "markdown-it";

const QUOTE_MARKER = /<!-- output of examples\/([\w-]+\.ts)( \(timings vary\))? -->/;

/** The repository files the chapters link to, to be copied into the site under /source/. */
export const linkedSources = new Set<string>();

export function bookMarkdown(md: MarkdownIt): void {
  const fence = md.renderer.rules.fence!;
  md.renderer.rules.fence = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const html = fence(tokens, idx, options, env, self);
    const language = token.info.trim().split(/\s+/)[0];
    if (language === "ts") return `<div class="book-cell">${html}</div>`;
    const before = tokens[idx - 1];
    const marker =
      language === "text" && before?.type === "html_block" ? QUOTE_MARKER.exec(before.content) : null;
    if (marker === null) return html;
    return `<div class="book-quote" data-example="${marker[1]}" data-timings-vary="${marker[2] !== undefined}">${html}</div>`;
  };

  const linkOpen =
    md.renderer.rules.link_open ??
    ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const href = token.attrGet("href") ?? "";
    const outside = /^\.\.\/([^#]+)(#.*)?$/.exec(href);
    if (outside !== null && !outside[1].startsWith("docs/")) {
      const path = outside[1];
      if (path.startsWith("lab/")) {
        token.attrSet("href", "/lab/");
        token.attrSet("target", "_self");
      } else {
        linkedSources.add(path.endsWith("/") ? `${path}README.md` : path);
        token.attrSet("href", `/source/${path.endsWith("/") ? `${path}README.md` : path}`);
        token.attrSet("target", "_self");
        const exercise = /^exercises\/(\d\d-[\w-]+)\.ts$/.exec(path);
        if (exercise !== null) token.attrSet("data-exercise", exercise[1]);
      }
    }
    return linkOpen(tokens, idx, options, env, self);
  };
}
