import { createTheme } from '@mantine/core';

// Default Mantine look, with the primary shade dark enough for 4.5:1 contrast of white text on buttons.
export const theme = createTheme({
  primaryColor: 'blue',
  primaryShade: 8,
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif',
});
