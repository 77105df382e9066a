import { lazy } from 'react';
import { Route, Switch } from 'wouter';
import { permissions, useViewer } from './viewer';

// Each screen is its own chunk, loaded when first shown (the initial JavaScript stays small).
const Overview = lazy(() => import('../features/tenants/OverviewPage'));
const Tenants = lazy(() => import('../features/tenants/TenantsPage'));
const Dashboard = lazy(() => import('../features/dashboard/DashboardPage'));
const Devices = lazy(() => import('../features/devices/DevicesPage'));
const Licenses = lazy(() => import('../features/licenses/LicensesPage'));
const Accounts = lazy(() => import('../features/accounts/AccountsPage'));
const Usage = lazy(() => import('../features/usage/UsagePage'));
const Alerts = lazy(() => import('../features/alerts/AlertsPage'));
const Audit = lazy(() => import('../features/audit/AuditPage'));
const LicenseServer = lazy(() => import('../features/sync/LicenseServerPage'));
const Offline = lazy(() => import('../features/sync/OfflinePage'));
const NotFound = lazy(() => import('./NotFoundPage'));

export function AppRoutes() {
  const { provider } = permissions(useViewer().role);
  return (
    <Switch>
      <Route path="/" component={provider ? Overview : Dashboard} />
      <Route path="/dashboard" component={Dashboard} />
      {provider && <Route path="/tenants" component={Tenants} />}
      <Route path="/devices" component={Devices} />
      <Route path="/licenses" component={Licenses} />
      <Route path="/accounts" component={Accounts} />
      <Route path="/usage" component={Usage} />
      <Route path="/alerts" component={Alerts} />
      <Route path="/audit" component={Audit} />
      <Route path="/license-server" component={LicenseServer} />
      <Route path="/offline" component={Offline} />
      <Route component={NotFound} />
    </Switch>
  );
}
