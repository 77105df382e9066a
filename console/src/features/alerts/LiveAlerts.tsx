import { useApolloClient, useSubscription } from '@apollo/client/react';
import { notifications } from '@mantine/notifications';
import { graphql } from '../../gql';
import { words } from '../../app/format';

const LicenseAlertsSubscription = graphql(`
  subscription LiveLicenseAlerts {
    licenseAlerts {
      id
      kind
      severity
      message
      active
      acknowledgedAt
      resolvedAt
      updatedAt
      tenant {
        id
        name
      }
    }
  }
`);

/**
 * The licenseAlerts subscription for the whole signed-in session: each event shows a toast and refreshes
 * the lists and counts on screen (the alert itself is updated in the cache by its id).
 */
export function LiveAlerts() {
  const client = useApolloClient();
  useSubscription(LicenseAlertsSubscription, {
    onData: ({ data }) => {
      const alert = data.data?.licenseAlerts;
      if (!alert) return;
      const state = alert.resolvedAt ? 'resolved' : alert.acknowledgedAt ? 'acknowledged' : 'raised';
      if (state === 'raised') {
        notifications.show({
          title: `Alert: ${words(alert.kind)}${alert.tenant ? ` · ${alert.tenant.name}` : ''}`,
          message: alert.message,
          color: alert.severity === 'CRITICAL' ? 'red' : alert.severity === 'WARNING' ? 'orange' : 'blue',
          autoClose: 8000,
        });
      }
      void client.refetchQueries({ include: ['Alerts', 'TenantDashboard', 'TenantsOverview'] });
    },
  });
  return null;
}
