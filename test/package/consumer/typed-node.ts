// The Node-only entry, for a Node consumer (which has @types/node: these functions take and return
// Node's types, such as paths and Buffers). Checked by tsconfig.nodenext.json.
import { type Checkpoint, loadMnist, saveCheckpoint } from "elbojs/node";

export const mnist = () => loadMnist("test", { limit: 10 }).images;
export type Epochs = Checkpoint["epoch"];
export const save: (path: string, checkpoint: Checkpoint) => Promise<void> = saveCheckpoint;
// @ts-expect-error: loadMnist knows its two splits
export const badSplit = () => loadMnist("validation");
