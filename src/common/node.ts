import { Field, ID, InterfaceType } from 'type-graphql';

@InterfaceType({
  description: 'An object with an opaque global id, fetchable through node(id:).',
  resolveType: (value: object) => value.constructor.name,
})
export abstract class Node {
  @Field(() => ID)
  id!: string;
}
