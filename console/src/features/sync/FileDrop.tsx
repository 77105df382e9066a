import '@mantine/dropzone/styles.css';
import { Group, Stack, Text } from '@mantine/core';
import { Dropzone } from '@mantine/dropzone';

/** One .tar.gz file from the license server, dropped or chosen (keyboard: Enter or Space opens the picker). */
export function FileDrop({ label, hint, onFile, loading, disabled }: { label: string; hint: string; onFile: (file: File) => void; loading?: boolean; disabled?: boolean }) {
  return (
    <Dropzone
      onDrop={(files) => files[0] && onFile(files[0])}
      multiple={false}
      maxSize={10 * 1024 * 1024}
      loading={loading}
      disabled={disabled}
      role="button"
      aria-label={label}
    >
      <Group justify="center" mih={90} style={{ pointerEvents: 'none' }}>
        <Stack gap={2} align="center">
          <Text fw={600}>{label}</Text>
          <Text size="sm" c="dimmed">
            {hint}
          </Text>
        </Stack>
      </Group>
    </Dropzone>
  );
}
