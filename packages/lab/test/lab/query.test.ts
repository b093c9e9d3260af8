import { decodeQuery } from '../../src/lab/query';

describe('the awsQuery form decoder of STS and CloudFormation', () => {
  it('nests dotted parameters, 1-based member lists and entry maps', () => {
    expect(decodeQuery('Action=CreateChangeSet&Parameters.member.2.ParameterKey=B&Parameters.member.1.ParameterKey=A&Tags.entry.1.key=k&Tags.entry.1.value=v')).toEqual({
      Action: 'CreateChangeSet',
      Parameters: [{ ParameterKey: 'A' }, { ParameterKey: 'B' }],
      Tags: { k: 'v' },
    });
  });

  it.each(['__proto__.polluted=yes', 'constructor.prototype.polluted=yes', 'A.__proto__.polluted=yes'])(
    'keeps a parameter named %s inside the request instead of writing it onto every object of the lab',
    (body) => {
      decodeQuery(body);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );
});
