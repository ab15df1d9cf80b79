// Adapter: the account model as a vscode TreeDataProvider. All content comes
// from present.ts; this file only builds TreeItems and repaints.
import * as vscode from 'vscode';
import type { AccountManager } from './manager';
import { accountItemModel, markdownToText, type DetailRow } from './present';

export type AccountNode = { kind: 'account'; accountId: string } | { kind: 'detail'; accountId: string; row: DetailRow; index: number };

/** A TreeItem as the host test suite reads it. */
export interface RenderedTreeItem {
  id?: string;
  label: string;
  description: string;
  tooltip: string;
  contextValue?: string;
  iconId?: string;
  children: RenderedTreeItem[];
}

const REPAINT_MS = 30_000;

export class AccountsTreeProvider implements vscode.TreeDataProvider<AccountNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<AccountNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly subscription: { dispose(): unknown };
  // "expires in 3 min" goes stale; repaint while some account has an expiry.
  // Started when the view is first drawn, not at activation: a timer costs
  // activation about half a millisecond (Node loads its timer code on first use).
  private repaint: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly mgr: AccountManager) {
    this.subscription = mgr.onDidChange(() => this.emitter.fire(undefined));
  }

  getChildren(node?: AccountNode): AccountNode[] {
    this.repaint ??= setInterval(() => {
      if (this.mgr.accounts().some((a) => a.token?.expiresAt !== undefined)) this.emitter.fire(undefined);
    }, REPAINT_MS);
    if (!node) return this.mgr.accounts().map((a) => ({ kind: 'account', accountId: a.id }));
    if (node.kind === 'detail') return [];
    const view = this.mgr.account(node.accountId);
    if (!view) return [];
    return accountItemModel(view, this.mgr.now()).details.map((row, index) => ({ kind: 'detail', accountId: node.accountId, row, index }));
  }

  getTreeItem(node: AccountNode): vscode.TreeItem {
    if (node.kind === 'detail') {
      const item = new vscode.TreeItem(node.row.label, vscode.TreeItemCollapsibleState.None);
      item.id = `${node.accountId}#${node.index}`;
      item.description = node.row.description;
      item.tooltip = `${node.row.label}: ${node.row.description}`;
      item.iconPath = new vscode.ThemeIcon(node.row.iconId);
      item.contextValue = 'accountDetail';
      return item;
    }
    const view = this.mgr.account(node.accountId);
    if (!view) return new vscode.TreeItem(node.accountId);
    const model = accountItemModel(view, this.mgr.now());
    const item = new vscode.TreeItem(model.label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = model.accountId;
    item.description = model.description;
    item.contextValue = model.contextValue;
    item.iconPath = new vscode.ThemeIcon(model.iconId, model.iconColor ? new vscode.ThemeColor(model.iconColor) : undefined);
    const tooltip = new vscode.MarkdownString(model.tooltipMarkdown);
    tooltip.supportThemeIcons = false;
    item.tooltip = tooltip;
    item.accessibilityInformation = { label: `${model.label}, ${model.description}, ${model.details[0]?.description ?? ''}` };
    return item;
  }

  /** The tree as rendered, for the host test suite. */
  render(): RenderedTreeItem[] {
    const renderNode = (node: AccountNode): RenderedTreeItem => {
      const item = this.getTreeItem(node);
      const tooltip = item.tooltip instanceof vscode.MarkdownString ? markdownToText(item.tooltip.value) : String(item.tooltip ?? '');
      const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
      return {
        id: item.id,
        label,
        description: typeof item.description === 'string' ? item.description : '',
        tooltip,
        contextValue: item.contextValue,
        iconId: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined,
        children: this.getChildren(node).map(renderNode),
      };
    };
    return this.getChildren().map(renderNode);
  }

  dispose(): void {
    clearInterval(this.repaint);
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
