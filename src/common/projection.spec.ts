import { columnsFor, ProjectionBudget, type ColumnMap } from './projection';

const MAP: ColumnMap = { key: ['t.id'], fields: { id: [], name: ['t.name'], size: ['t.size'] }, all: ['t.id', 't.name', 't.size'] };

describe('columnsFor', () => {
  it('reads the key and the named fields, in the order of every column; an unknown field or no selection reads every column', () => {
    expect(columnsFor(MAP, new Set(['size', 'id', '__typename']))).toEqual({ sql: 't.id, t.size', complete: false });
    expect(columnsFor(MAP, new Set(['size', 'name']))).toEqual({ sql: 't.id, t.name, t.size', complete: true });
    expect(columnsFor(MAP, new Set(['name', 'unknown']))).toEqual({ sql: 't.id, t.name, t.size', complete: true });
    expect(columnsFor(MAP, undefined)).toEqual({ sql: 't.id, t.name, t.size', complete: true });
  });
});

describe('ProjectionBudget', () => {
  it('admits combinations up to its size, then only those it has admitted', () => {
    const budget = new ProjectionBudget(2);
    const a = { sql: 't.id' };
    const b = { sql: 't.id, t.name' };
    expect(budget.admit(a)).toBe(true);
    expect(budget.admit(a, b)).toBe(true);
    expect(budget.admit(b)).toBe(false);
    expect(budget.admit(b, a)).toBe(false);
    expect(budget.admit(a)).toBe(true);
    expect(budget.admit(a, b)).toBe(true);
  });
});
