/**
 * The layer rule of ARCHITECTURE.md, checked by `npm run lint:deps` (part of `npm test`): an import may only point
 * down the layers (or stay in its own folder), and no import closes a cycle. `src/sim` stands beside the layers: it
 * uses only `util`, and only the exchange layer (the paper venue), the app and the tools use it. `src/api` (the public
 * API entry of package.json `exports`) stands above them all: it re-exports the strategy layer, nothing imports it.
 */
// lowest first; folders on one line are one layer (they may import each other, but nothing above)
const LAYERS = [
  ['model'],
  ['util'],
  ['config'],
  ['codec'],
  ['net'],
  ['book', 'md', 'orders', 'persist'],
  ['exchange'],
  ['risk', 'strategy'],
  ['engine'],
  ['app'],
  ['tools'],
  ['cli'],
];
const above = (i) => LAYERS.slice(i + 1).flat();
const layerRules = LAYERS.flatMap((folders, i) =>
  i === LAYERS.length - 1
    ? []
    : [
        {
          name: `layer-${folders.join('-')}`,
          comment: `${folders.join(', ')} may not import a higher layer (${above(i).join(', ')})`,
          severity: 'error',
          from: { path: `^src/(${folders.join('|')})/` },
          to: { path: `^src/(${above(i).join('|')})/` },
        },
      ],
);

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'an import that closes a cycle',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'sim-stands-beside',
      comment: 'the simulator uses only util (it is a venue of its own, not a part of the engine)',
      severity: 'error',
      from: { path: '^src/sim/' },
      to: { path: '^src/', pathNot: '^src/(sim|util)/' },
    },
    {
      name: 'sim-users',
      comment: 'only the paper venue (exchange), the app, the tools and the cli start or use the simulator',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(sim|exchange|app|tools|cli)/' },
      to: { path: '^src/sim/' },
    },
    {
      name: 'api-surface',
      comment: 'the public API entry (src/api, package.json exports) re-exports the strategy layer and what it speaks, nothing more',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/', pathNot: '^src/(api|model|util|strategy)/' },
    },
    {
      name: 'api-is-the-top',
      comment: 'nothing inside src imports the public API entry: it is for projects that install tickwire',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/api/' },
      to: { path: '^src/api/' },
    },
    {
      name: 'not-to-tests',
      comment: 'src never imports tests or benchmarks',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
