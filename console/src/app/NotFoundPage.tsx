import { Anchor, Text } from '@mantine/core';
import { Link } from 'wouter';
import { PageHeader } from './ui';

export default function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <Text>
        There is no such page. <Anchor component={Link} href="/">Go to the start page</Anchor>.
      </Text>
    </>
  );
}
