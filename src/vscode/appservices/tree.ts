// The Appservices view: a thin TreeDataProvider over the catalog, the
// remembered homeservers and the last ping results (see treeNodes.ts).
import * as vscode from 'vscode';
import { formatDoctorSummary } from '../../core/doctor';
import { t } from '../../core/l10n';
import type { AppserviceCatalog, AppserviceItem } from './catalog';
import { effectiveHomeserver, HomeserverMemory } from './homeservers';
import type { AppserviceDoctorService } from './doctorService';
import type { AppservicePingService } from './pingService';
import { appserviceNode, checkNodes, DetailNodeData, detailNodes, NodeIcon, staleDiagnosisNode } from './treeNodes';

export type AppserviceTreeNode = { type: 'appservice'; item: AppserviceItem } | { type: 'detail'; id: string; data: DetailNodeData };

export class AppservicesTreeProvider implements vscode.TreeDataProvider<AppserviceTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<AppserviceTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly catalog: AppserviceCatalog,
    private readonly pings: AppservicePingService,
    private readonly memory: HomeserverMemory,
    private readonly doctor: AppserviceDoctorService,
    /** The first scan of the registration files, started when the view first asks for its items. */
    private readonly loaded: () => Promise<void> = () => Promise.resolve(),
  ) {}

  repaint(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(node: AppserviceTreeNode): vscode.TreeItem {
    if (node.type === 'appservice') {
      const data = appserviceNode(node.item, effectiveHomeserver(node.item, this.memory), this.pings.lastPing(node.item.key));
      const item = new vscode.TreeItem(data.label, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = node.item.key;
      item.description = data.description;
      const diagnosis = this.doctor.last(node.item.key);
      const diagnosed =
        diagnosis && t('Diagnosed {0}: {1}', new Date(diagnosis.at).toLocaleString(), formatDoctorSummary(diagnosis.report));
      item.tooltip = !diagnosed
        ? data.tooltip
        : this.doctor.isStale(node.item)
          ? `${data.tooltip}\n${diagnosed} ${t('(out of date: the registration changed since)')}`
          : `${data.tooltip}\n${diagnosed}`;
      item.iconPath = themeIcon(data.icon);
      item.contextValue = data.contextValue;
      return item;
    }
    const { data } = node;
    const item = new vscode.TreeItem(
      data.label,
      data.children?.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = node.id;
    item.description = data.description;
    item.tooltip = data.tooltip;
    if (data.icon) item.iconPath = themeIcon(data.icon);
    item.contextValue = data.contextValue ?? 'appserviceDetail';
    if (data.open) {
      const at = new vscode.Position(Math.max(0, data.open.line - 1), Math.max(0, data.open.column - 1));
      item.command = {
        command: 'vscode.open',
        title: '',
        arguments: [vscode.Uri.file(data.open.file), { selection: new vscode.Range(at, at) }],
      };
    }
    return item;
  }

  async getChildren(node?: AppserviceTreeNode): Promise<AppserviceTreeNode[]> {
    if (!node) {
      await this.loaded();
      return this.catalog.items().map((item) => ({ type: 'appservice', item }));
    }
    if (node.type === 'appservice') {
      const hasAsToken = node.item.source === 'settings' ? await this.pings.hasAsToken(node.item.id) : undefined;
      const diagnosis = this.doctor.last(node.item.key);
      const checks = !diagnosis
        ? []
        : this.doctor.isStale(node.item)
          ? [{ type: 'detail' as const, id: `${node.item.key}#stale-diagnosis`, data: staleDiagnosisNode(diagnosis.report, diagnosis.at) }]
          : checkNodes(diagnosis.report).map((data) => ({ type: 'detail' as const, id: `${node.item.key}#check:${data.label}`, data }));
      return [
        ...checks,
        ...detailNodes(node.item, { hasAsToken }).map((data, i) => ({ type: 'detail' as const, id: `${node.item.key}#${i}`, data })),
      ];
    }
    return (node.data.children ?? []).map((data, i) => ({ type: 'detail', id: `${node.id}.${i}`, data }));
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function themeIcon(icon: NodeIcon): vscode.ThemeIcon {
  return new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
}
