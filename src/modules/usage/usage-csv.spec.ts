import { csvField, csvLine } from './usage-csv';

describe('CSV fields (RFC 4180)', () => {
  it('writes plain text, numbers and null as they are (null empty)', () => {
    expect([csvField('DSTACK_T1_A'), csvField(0.25), csvField(null)]).toEqual(['DSTACK_T1_A', '0.25', '']);
  });

  it('quotes a field holding a comma, a double quote, CR or LF, doubling its double quotes', () => {
    expect(csvField('Routing, DNA')).toBe('"Routing, DNA"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('a\r\nb')).toBe('"a\r\nb"');
    expect(csvField('a\nb')).toBe('"a\nb"');
  });

  it('ends every record with CRLF', () => {
    expect(csvLine(['a', 1, null, 'x,y'])).toBe('a,1,,"x,y"\r\n');
  });
});
