// The server's account page (spec v1.18 "Account management", MSC4191):
// `account_management_uri` from the metadata, with `action=` (and
// `device_id=` for one device) for the pages listed in
// `account_management_actions_supported`. Servers from before the spec (MAS
// before 2025) list MSC4191's first names (`org.matrix.sessions_list`, ...);
// both are understood.

export type AccountPage = 'profile' | 'thisDevice' | 'devices';

const ACTIONS: Record<AccountPage, string[]> = {
  // Stable name first: used when the server lists nothing (it ignores unknown actions).
  profile: ['org.matrix.profile'],
  thisDevice: ['org.matrix.device_view', 'org.matrix.session_view'],
  devices: ['org.matrix.devices_list', 'org.matrix.sessions_list'],
};

/** The pages this server says it can open, in a sensible order; none listed = only the bare page. */
export function accountPagesOf(actionsSupported: readonly string[] | undefined): AccountPage[] {
  if (!actionsSupported) return [];
  return (Object.keys(ACTIONS) as AccountPage[]).filter((page) => ACTIONS[page].some((a) => actionsSupported.includes(a)));
}

/** The URL to open: the bare account page, or one of its pages (`thisDevice` needs the device id). */
export function accountManagementUrl(
  uri: string,
  page?: AccountPage,
  opts: { actionsSupported?: readonly string[]; deviceId?: string } = {},
): string {
  if (!page) return uri;
  const url = new URL(uri);
  const action = ACTIONS[page].find((a) => opts.actionsSupported?.includes(a)) ?? ACTIONS[page][0];
  url.searchParams.set('action', action);
  if (page === 'thisDevice' && opts.deviceId) url.searchParams.set('device_id', opts.deviceId);
  return url.toString();
}
