import { createTheme, darken, Modal, Notification, type CSSVariablesResolver } from '@mantine/core';

/**
 * WCAG AA contrast (4.5:1), for every theme colour. Mantine's "light" variants (badges, alerts, the active
 * navigation link, light buttons) put the colour's shade 9 on its shade 1 background (shade 2 when
 * hovered): 3.6:1 to 4:1 for green, orange and blue. Their text is shade 9 darkened by 30 %, which keeps
 * the hue and clears 5:1 on either background. Dimmed text is gray 7; links are blue 9 (shade 8 is 4.1:1
 * on a blue alert's background).
 */
const LIGHT_TEXT_DARKEN = 0.3;

export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    ...Object.fromEntries(Object.entries(t.colors).map(([name, shades]) => [`--mantine-color-${name}-light-color`, darken(shades[9], LIGHT_TEXT_DARKEN)])),
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-anchor': 'var(--mantine-color-blue-9)',
  },
  dark: {},
});

// Default Mantine look, with the primary shade dark enough for 4.5:1 contrast of white text on buttons,
// and names for the icon-only close buttons.
export const theme = createTheme({
  primaryColor: 'blue',
  primaryShade: 8,
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif',
  components: {
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close dialog' } } }),
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Dismiss notification' } } }),
  },
});
