/**
 * Whether a Graphviz picture's text fits its boxes as the browser draws it: for every node of the
 * SVG under `root` on the page, each line of its text whose box (getBBox, the browser's own font
 * metrics) reaches outside the box of the node's shape.
 */
import type { Page } from "playwright-core";

export interface Overflow {
  node: string;
  text: string;
  textBox: number[];
  shapeBox: number[];
}

/** The few DOM members the check reads (the tests' TypeScript has no DOM types). */
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface Element {
  textContent: string | null;
  querySelector(selector: string): Element | null;
  querySelectorAll(selector: string): ArrayLike<Element>;
  getBBox(): Box;
}

export function textOutsideBoxes(
  page: Page,
  root: string,
): Promise<{ nodes: number; overflows: Overflow[] }> {
  return page.evaluate((selector) => {
    const document = (globalThis as unknown as { document: Element }).document;
    const overflows: Overflow[] = [];
    const nodes = Array.from(document.querySelectorAll(`${selector} g.node`));
    for (const node of nodes) {
      const shape = node.querySelector("path, polygon, ellipse");
      if (shape === null) continue; // a plaintext node (a lone number) has no box
      const s = shape.getBBox();
      for (const text of Array.from(node.querySelectorAll("text"))) {
        const t = text.getBBox();
        if (t.x < s.x || t.y < s.y || t.x + t.width > s.x + s.width || t.y + t.height > s.y + s.height) {
          overflows.push({
            node: node.querySelector("title")?.textContent ?? "",
            text: text.textContent ?? "",
            textBox: [t.x, t.y, t.width, t.height],
            shapeBox: [s.x, s.y, s.width, s.height],
          });
        }
      }
    }
    return { nodes: nodes.length, overflows };
  }, root);
}
