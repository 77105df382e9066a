import { createTheme, defaultVariantColorsResolver, Modal, Notification, parseThemeColor, type VariantColorsResolver } from '@mantine/core';

/**
 * The "light" variants (badges, the active navigation link, light buttons) with the colour's shade 9 as
 * text: the default shade misses the 4.5:1 contrast WCAG AA asks for on its pale background.
 */
const variantColorResolver: VariantColorsResolver = (input) => {
  const colors = defaultVariantColorsResolver(input);
  if (input.variant !== 'light') return colors;
  const parsed = parseThemeColor({ color: input.color || input.theme.primaryColor, theme: input.theme });
  return parsed.isThemeColor ? { ...colors, color: `var(--mantine-color-${parsed.color}-9)`, hoverColor: `var(--mantine-color-${parsed.color}-9)` } : colors;
};

// Default Mantine look, with the primary shade dark enough for 4.5:1 contrast of white text on buttons,
// and names for the icon-only close buttons.
export const theme = createTheme({
  primaryColor: 'blue',
  primaryShade: 8,
  variantColorResolver,
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif',
  components: {
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close dialog' } } }),
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Dismiss notification' } } }),
  },
});
