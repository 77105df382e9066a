import { Field, ID, InterfaceType } from 'type-graphql';

/** A node's GraphQL type: the name of its class (synchronous; see server/schema.ts). */
export const resolveNodeType = (value: object): string => value.constructor.name;

@InterfaceType({
  description: 'An object with an opaque global id, fetchable through node(id:).',
  resolveType: resolveNodeType,
})
export abstract class Node {
  @Field(() => ID)
  id!: string;
}
