import '@mantine/dropzone/styles.css';
import { Button, Group, Stack, Text } from '@mantine/core';
import { Dropzone } from '@mantine/dropzone';
import { useRef } from 'react';

/**
 * One .tar.gz file from the license server: dropped on the zone with a mouse, or chosen with the button
 * (the keyboard's way, below the zone: the zone is only a drop target, so no control sits inside another).
 */
export function FileDrop({ label, hint, onFile, loading, disabled }: { label: string; hint: string; onFile: (file: File) => void; loading?: boolean; disabled?: boolean }) {
  const openRef = useRef<() => void>(null);
  return (
    <div>
    <Dropzone
      onDrop={(files) => files[0] && onFile(files[0])}
      multiple={false}
      maxSize={10 * 1024 * 1024}
      loading={loading}
      disabled={disabled}
      openRef={openRef}
      activateOnClick={false}
      activateOnKeyboard={false}
    >
      <Group justify="center" mih={90}>
        <Stack gap={4} align="center">
          <Text fw={600}>{label}</Text>
          <Text size="sm" c="dimmed">
            {hint}
          </Text>
        </Stack>
      </Group>
    </Dropzone>
      <Button variant="default" size="xs" mt="xs" onClick={() => openRef.current?.()} disabled={disabled || loading}>
        Choose the {label.toLowerCase()}
      </Button>
    </div>
  );
}
