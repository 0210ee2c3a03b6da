/**
 * Block Kit limits, checked the way Slack's Web API checks them: every problem is reported
 * with a JSON pointer, and the caller turns the list into Slack's error body
 * (`response_metadata.messages: ['[ERROR] must be less than 3001 characters
 * [json-pointer:/blocks/0/text/text]']`).
 *
 * Limits as published by Slack (looked up 2025):
 * - https://docs.slack.dev/reference/block-kit/blocks — "up to 50 blocks in each message,
 *   and 100 blocks in modals or Home tabs"
 * - https://docs.slack.dev/reference/block-kit/blocks/section-block — text 1..3000 chars;
 *   fields: at most 10 items, 2000 chars each; block_id ≤ 255
 * - https://docs.slack.dev/reference/block-kit/blocks/header-block — plain_text ≤ 150
 * - https://api.slack.com/reference/block-kit/blocks#actions — at most 25 elements
 * - https://docs.slack.dev/reference/block-kit/blocks/context-block — at most 10 elements
 * - https://docs.slack.dev/reference/block-kit/block-elements/button-element — text
 *   (plain_text) ≤ 75, value ≤ 2000, action_id ≤ 255, url ≤ 3000
 * - https://docs.slack.dev/reference/views/modal-views — title/close/submit plain_text ≤ 24,
 *   submit required with an input block, private_metadata ≤ 3000, callback_id ≤ 255
 */

export const BLOCK_KIT_LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  blockId: 255,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  actionsElements: 25,
  contextElements: 10,
  inputLabel: 2000,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  actionId: 255,
  textObject: 3000,
  viewTitle: 24,
  viewButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
} as const;

/** One thing Slack would reject, located by a JSON pointer into the request. */
export interface BlockKitProblem {
  pointer: string;
  message: string;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Slack counts characters, not UTF-16 code units. */
const charCount = (text: string): number => [...text].length;

class Checker {
  readonly problems: BlockKitProblem[] = [];

  add(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }

  maxLength(value: unknown, max: number, pointer: string, min = 0): void {
    if (typeof value !== 'string') return;
    const length = charCount(value);
    if (length > max) this.add(pointer, `must be less than ${max + 1} characters`);
    else if (length < min) this.add(pointer, `must be more than ${min - 1} characters`);
  }

  maxItems(value: unknown, max: number, pointer: string): void {
    if (Array.isArray(value) && value.length > max) {
      this.add(pointer, `no more than ${max} items allowed`);
    }
  }

  /** A text object: { type: plain_text | mrkdwn, text }. */
  text(value: unknown, max: number, pointer: string, opts: { plainOnly?: boolean } = {}): void {
    if (!isObject(value)) {
      this.add(pointer, 'must be a text object');
      return;
    }
    const allowed = opts.plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
    if (typeof value.type !== 'string' || !allowed.includes(value.type)) {
      this.add(`${pointer}/type`, `must be one of ${allowed.join(', ')}`);
    }
    if (typeof value.text !== 'string') this.add(`${pointer}/text`, 'missing required field: text');
    else this.maxLength(value.text, max, `${pointer}/text`, 1);
  }

  element(value: unknown, pointer: string): void {
    if (!isObject(value)) {
      this.add(pointer, 'must be an object');
      return;
    }
    this.maxLength(value.action_id, BLOCK_KIT_LIMITS.actionId, `${pointer}/action_id`);
    if (value.type === 'button') {
      this.text(value.text, BLOCK_KIT_LIMITS.buttonText, `${pointer}/text`, { plainOnly: true });
      this.maxLength(value.value, BLOCK_KIT_LIMITS.buttonValue, `${pointer}/value`);
      this.maxLength(value.url, BLOCK_KIT_LIMITS.buttonUrl, `${pointer}/url`);
    }
  }

  block(block: unknown, pointer: string): void {
    if (!isObject(block) || typeof block.type !== 'string') {
      this.add(pointer, 'failed to match all allowed schemas');
      return;
    }
    this.maxLength(block.block_id, BLOCK_KIT_LIMITS.blockId, `${pointer}/block_id`);
    switch (block.type) {
      case 'section':
        this.section(block, pointer);
        break;
      case 'header':
        this.text(block.text, BLOCK_KIT_LIMITS.headerText, `${pointer}/text`, { plainOnly: true });
        break;
      case 'actions':
        this.elements(block.elements, BLOCK_KIT_LIMITS.actionsElements, pointer, (e, p) =>
          this.element(e, p),
        );
        break;
      case 'context':
        this.elements(block.elements, BLOCK_KIT_LIMITS.contextElements, pointer, (e, p) => {
          if (isObject(e) && e.type !== 'image') this.text(e, BLOCK_KIT_LIMITS.textObject, p);
        });
        break;
      case 'input':
        this.text(block.label, BLOCK_KIT_LIMITS.inputLabel, `${pointer}/label`, {
          plainOnly: true,
        });
        this.element(block.element, `${pointer}/element`);
        break;
      default:
        // Slack keeps adding block types; the fake does not reject ones it does not model.
        break;
    }
  }

  private section(block: Json, pointer: string): void {
    if (block.text === undefined && block.fields === undefined) {
      this.add(pointer, 'must provide either text or fields');
    }
    if (block.text !== undefined) {
      this.text(block.text, BLOCK_KIT_LIMITS.sectionText, `${pointer}/text`);
    }
    if (block.fields !== undefined) {
      this.elements(
        block.fields,
        BLOCK_KIT_LIMITS.sectionFields,
        pointer,
        (f, p) => this.text(f, BLOCK_KIT_LIMITS.sectionFieldText, p),
        'fields',
      );
    }
    if (block.accessory !== undefined) this.element(block.accessory, `${pointer}/accessory`);
  }

  private elements(
    list: unknown,
    max: number,
    pointer: string,
    each: (element: unknown, pointer: string) => void,
    key = 'elements',
  ): void {
    if (!Array.isArray(list)) {
      this.add(`${pointer}/${key}`, 'must be an array');
      return;
    }
    this.maxItems(list, max, `${pointer}/${key}`);
    list.forEach((element, i) => each(element, `${pointer}/${key}/${i}`));
  }

  blocks(blocks: unknown, max: number, pointer: string): void {
    if (!Array.isArray(blocks)) {
      this.add(pointer, 'must be an array');
      return;
    }
    this.maxItems(blocks, max, pointer);
    blocks.forEach((block, i) => this.block(block, `${pointer}/${i}`));
  }
}

/** Problems with the `blocks` of chat.postMessage / chat.update / chat.postEphemeral. */
export function checkMessageBlocks(blocks: unknown): BlockKitProblem[] {
  const checker = new Checker();
  checker.blocks(blocks, BLOCK_KIT_LIMITS.messageBlocks, '/blocks');
  return checker.problems;
}

/** Problems with the `view` of views.open / views.update / views.publish. */
export function checkView(view: unknown, allowed: readonly string[]): BlockKitProblem[] {
  const checker = new Checker();
  if (!isObject(view)) {
    checker.add('/view', 'must be a view object');
    return checker.problems;
  }
  if (typeof view.type !== 'string' || !allowed.includes(view.type)) {
    checker.add('/view/type', `must be one of ${allowed.join(', ')}`);
  }
  checker.blocks(view.blocks, BLOCK_KIT_LIMITS.viewBlocks, '/view/blocks');
  checker.maxLength(
    view.private_metadata,
    BLOCK_KIT_LIMITS.privateMetadata,
    '/view/private_metadata',
  );
  checker.maxLength(view.callback_id, BLOCK_KIT_LIMITS.callbackId, '/view/callback_id');
  if (view.type === 'modal') {
    checker.text(view.title, BLOCK_KIT_LIMITS.viewTitle, '/view/title', { plainOnly: true });
    for (const key of ['close', 'submit'] as const) {
      const button = view[key];
      if (button !== undefined && button !== null) {
        checker.text(button, BLOCK_KIT_LIMITS.viewButton, `/view/${key}`, { plainOnly: true });
      }
    }
    const hasInput =
      Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (hasInput && (view.submit === undefined || view.submit === null)) {
      checker.add('/view/submit', 'submit is required when an input block is present');
    }
  }
  return checker.problems;
}

/** The `response_metadata.messages` lines Slack sends with a schema error. */
export function problemMessages(problems: readonly BlockKitProblem[]): string[] {
  return problems.map((p) => `[ERROR] ${p.message} [json-pointer:${p.pointer}]`);
}
