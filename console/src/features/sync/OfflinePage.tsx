import { useMutation, useQuery } from '@apollo/client/react';
import { Alert, Button, Group, Select, Stack, Stepper, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { graphql } from '../../gql';
import { authHeaders } from '../../app/auth/session';
import { parseBodyError } from '../../app/errors';
import { formatDate, formatDateTime, words } from '../../app/format';
import { useTenantScope } from '../../app/scope';
import { ChooseTenant, ErrorAlert, PageHeader, ScrollRegion } from '../../app/ui';
import { permissions, useViewer } from '../../app/viewer';
import { FileDrop } from './FileDrop';

const UploadLicenseSummary = graphql(`
  mutation UploadLicenseSummary($input: UploadFileInput!) {
    uploadLicenseSummary(input: $input) {
      serial
      generatedAt
      smartAccount {
        id
        name
        accountId
      }
      syncRun {
        id
        linesAdded
        linesChanged
        linesRemoved
        assignmentsReconciled
      }
    }
  }
`);
const GenerateUsageReport = graphql(`
  mutation GenerateUsageReport($input: GenerateUsageReportInput!) {
    generateUsageReport(input: $input) {
      id
      status
      periodStart
      periodEnd
      measurements
      fileSize
      downloadUrl
    }
  }
`);
const UploadAcknowledgement = graphql(`
  mutation UploadAcknowledgement($input: UploadFileInput!) {
    uploadAcknowledgement(input: $input) {
      id
      status
      ackId
      acknowledgedAt
      acknowledgedSmartAccount
      acknowledgedVirtualAccount
    }
  }
`);
const OfflineContext = graphql(`
  query OfflineContext($tenantId: ID) {
    licenseSyncSettings {
      mode
    }
    smartAccounts(tenantId: $tenantId) {
      id
      virtualAccounts {
        id
        name
        managed
      }
    }
    usageReports(tenantId: $tenantId, first: 10) {
      edges {
        node {
          id
          via
          status
          generatedAt
          measurements
          downloadUrl
          acknowledgedAt
        }
      }
    }
  }
`);

async function download(url: string, filename: string): Promise<void> {
  const res = await fetch(url, { headers: authHeaders() });
  if (!res.ok) throw parseBodyError(await res.text()) ?? new Error(`HTTP ${res.status}`);
  const href = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = href;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/**
 * The offline round trip, one step after the other: the license summary file from the license server in,
 * the usage report out, its acknowledgement in. Each step says what the server made of the file.
 */
export default function OfflinePage() {
  const { tenantId, provider } = useTenantScope();
  const viewer = useViewer();
  const can = permissions(viewer.role);
  const [step, setStep] = useState(0);
  const [va, setVa] = useState<string | null>(null);
  const [downloadError, setDownloadError] = useState<unknown>();
  const context = useQuery(OfflineContext, { variables: { tenantId }, skip: provider && !tenantId });
  const refresh = { refetchQueries: ['OfflineContext', 'TenantDashboard', 'Devices', 'Licenses', 'SmartAccounts'] };
  const [uploadSummary, summary] = useMutation(UploadLicenseSummary, refresh);
  const [generate, report] = useMutation(GenerateUsageReport, refresh);
  const [uploadAck, ack] = useMutation(UploadAcknowledgement, refresh);

  if (provider && !tenantId) return (
    <>
      <PageHeader title="Offline files" />
      <ChooseTenant />
    </>
  );
  if (!can.administer && !can.sync) {
    return (
      <>
        <PageHeader title="Offline files" />
        <Text>Only administrators carry license files. Recent usage reports are listed below.</Text>
        <Reports reports={context.data?.usageReports.edges.map((e) => e.node) ?? []} onError={setDownloadError} />
      </>
    );
  }
  const vas = (context.data?.smartAccounts ?? []).flatMap((sa) => sa.virtualAccounts.filter((v) => v.managed).map((v) => ({ value: v.id, label: v.name })));
  const s = summary.data?.uploadLicenseSummary;
  const r = report.data?.generateUsageReport;
  const a = ack.data?.uploadAcknowledgement;

  return (
    <>
      <PageHeader title="Offline files" />
      {context.data && context.data.licenseSyncSettings.mode !== 'OFFLINE' && (
        <Alert color="yellow" mb="md" title={`This instance is in ${words(context.data.licenseSyncSettings.mode)} mode`}>
          Files are for offline mode; a provider administrator chooses the mode under License server.
        </Alert>
      )}
      <Stepper active={step} onStepClick={setStep} orientation="vertical" allowNextStepsSelect={false}>
        <Stepper.Step label="1. License summary file" description="From the license server into this product">
          <Stack>
            <Text size="sm">In the license server, generate the license summary file of your smart account and drop it here.</Text>
            {can.administer && (
              <FileDrop
                label="License summary file"
                hint="Drop the .tar.gz here, or choose it"
                loading={summary.loading}
                onFile={(file) => void uploadSummary({ variables: { input: { tenantId, file, fileName: file.name } } }).catch(() => undefined)}
              />
            )}
            <ErrorAlert error={summary.error} title="The license summary file was not accepted" />
            {s && !summary.error && (
              <Alert color="green" title="License summary accepted" role="status">
                Summary number {s.serial} of {formatDateTime(s.generatedAt)} for smart account {s.smartAccount.name}: {s.syncRun.linesAdded} license lines added, {s.syncRun.linesChanged}{' '}
                changed, {s.syncRun.linesRemoved} removed; {s.syncRun.assignmentsReconciled} waiting assignments bound.
              </Alert>
            )}
            <Group>
              <Button variant="default" onClick={() => setStep(1)}>
                Next: usage report
              </Button>
            </Group>
          </Stack>
        </Stepper.Step>
        <Stepper.Step label="2. Usage report" description="From this product to the license server">
          <Stack>
            <Text size="sm">Generate the usage report, download it and upload it to the license server.</Text>
            {vas.length > 1 && <Select label="Report against virtual account" placeholder="All managed virtual accounts" clearable data={vas} value={va} onChange={setVa} />}
            <Group>
              <Button loading={report.loading} onClick={() => void generate({ variables: { input: { tenantId, virtualAccountId: va ?? undefined } } }).catch(() => undefined)}>
                Generate usage report
              </Button>
              {r?.downloadUrl && (
                <Button
                  variant="light"
                  onClick={() => {
                    setDownloadError(undefined);
                    download(r.downloadUrl!, `usage-report-${r.id}.tar.gz`).catch(setDownloadError);
                  }}
                >
                  Download usage report
                </Button>
              )}
            </Group>
            <ErrorAlert error={report.error ?? downloadError} />
            {r && (
              <Alert color="green" title="Usage report generated" role="status">
                {r.measurements} device measurements from {formatDate(r.periodStart)} to {formatDate(r.periodEnd)} ({r.fileSize ?? 0} bytes). Download it and upload it to the license server.
              </Alert>
            )}
            <Group>
              <Button variant="default" onClick={() => setStep(2)}>
                Next: acknowledgement
              </Button>
            </Group>
          </Stack>
        </Stepper.Step>
        <Stepper.Step label="3. Acknowledgement" description="The license server's answer, back here">
          <Stack>
            <Text size="sm">The license server answers the usage report with an acknowledgement file: drop it here.</Text>
            {can.administer && (
              <FileDrop
                label="Acknowledgement file"
                hint="Drop the .tar.gz here, or choose it"
                loading={ack.loading}
                onFile={(file) => void uploadAck({ variables: { input: { tenantId, file, fileName: file.name } } }).catch(() => undefined)}
              />
            )}
            <ErrorAlert error={ack.error} title="The acknowledgement was not accepted" />
            {a && !ack.error && (
              <Alert color="green" title="Acknowledgement accepted" role="status">
                The license server acknowledged the usage report on {formatDateTime(a.acknowledgedAt)} (acknowledgement {a.ackId}
                {a.acknowledgedSmartAccount ? `, smart account ${a.acknowledgedSmartAccount}` : ''}).
              </Alert>
            )}
          </Stack>
        </Stepper.Step>
      </Stepper>
      <Reports reports={context.data?.usageReports.edges.map((e) => e.node) ?? []} onError={setDownloadError} />
    </>
  );
}

type Report = { id: string; via: string; status: string; generatedAt: string; measurements: number; downloadUrl?: string | null; acknowledgedAt?: string | null };

function Reports({ reports, onError }: { reports: Report[]; onError: (e: unknown) => void }) {
  if (reports.length === 0) return null;
  return (
    <ScrollRegion minWidth={600} mt="lg" label="Recent usage reports (scrolls sideways)">
      <Table striped aria-label="Recent usage reports">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Generated</Table.Th>
            <Table.Th>How</Table.Th>
            <Table.Th>Devices</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>File</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {reports.map((r) => (
            <Table.Tr key={r.id}>
              <Table.Td>{formatDateTime(r.generatedAt)}</Table.Td>
              <Table.Td>{words(r.via)}</Table.Td>
              <Table.Td>{r.measurements}</Table.Td>
              <Table.Td>{r.acknowledgedAt ? `Acknowledged ${formatDateTime(r.acknowledgedAt)}` : 'Waiting for acknowledgement'}</Table.Td>
              <Table.Td>
                {r.downloadUrl && (
                  <Button size="xs" variant="subtle" onClick={() => download(r.downloadUrl!, `usage-report-${r.id}.tar.gz`).catch(onError)} aria-label={`Download the usage report of ${formatDateTime(r.generatedAt)}`}>
                    Download
                  </Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollRegion>
  );
}
