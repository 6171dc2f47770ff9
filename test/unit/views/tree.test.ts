// The one tree model every Syncord tree is built on.
import * as assert from 'node:assert/strict';
import { changedNodes, nodeRenderKey, TreeModel, ViewNode } from '../../../src/views/tree';

const node = (id: string, parentId?: string, extra: Partial<ViewNode> = {}): ViewNode => ({ id, kind: 'row', parentId, label: id, contextValue: 'syncord.test', collapsible: 'none', ...extra });

function sample(): TreeModel {
  const t = new TreeModel();
  t.add(node('a'));
  t.add(node('a/1', 'a'));
  t.add(node('a/2', 'a'));
  t.add(node('a/2/x', 'a/2'));
  t.add(node('b'));
  return t;
}

describe('views: the tree model', () => {
  it('indexes nodes by id with their parent and children, in the order added', () => {
    const t = sample();
    assert.deepEqual(t.roots.map((n) => n.id), ['a', 'b']);
    assert.deepEqual(t.children('a').map((n) => n.id), ['a/1', 'a/2']);
    assert.deepEqual(t.children('b'), []);
    assert.equal(t.parent('a/2/x')?.id, 'a/2');
    assert.equal(t.parent('a'), undefined);
    assert.equal(t.get('a/2')?.label, 'a/2');
    assert.equal(t.get('nope'), undefined);
    assert.equal(t.size, 5);
    assert.deepEqual(t.all().map((n) => n.id), ['a', 'a/1', 'a/2', 'a/2/x', 'b']);
  });

  it('keeps ids unique: a repeated id gets #2, #3 and children can hang under the renamed node', () => {
    const t = new TreeModel();
    t.add(node('x'));
    const second = t.add(node('x'));
    const third = t.add(node('x'));
    assert.deepEqual([second.id, third.id], ['x#2', 'x#3']);
    t.add(node('child', second.id));
    assert.equal(t.parent('child')?.id, 'x#2');
    assert.equal(t.size, 4);
  });

  it('finds the rows that changed: a changed row, not its unchanged siblings; everything when the roots differ', () => {
    const before = sample();
    assert.deepEqual(changedNodes(before, sample()), { all: false, nodes: [] });

    const described = sample();
    described.get('a/2/x')!.description = 'new';
    assert.deepEqual(changedNodes(before, described).nodes.map((n) => n.id), ['a/2/x']);

    const grown = sample();
    grown.add(node('a/3', 'a'));
    // The parent redraws (its children changed); its new child comes with it.
    assert.deepEqual(changedNodes(before, grown).nodes.map((n) => n.id), ['a']);

    const recoloured = sample();
    recoloured.get('b')!.icon = { id: 'pass', color: 'charts.green' };
    assert.deepEqual(changedNodes(before, recoloured).nodes.map((n) => n.id), ['b']);

    const fewer = new TreeModel();
    fewer.add(node('a'));
    assert.deepEqual(changedNodes(before, fewer), { all: true, nodes: [] });
  });

  it('leaves a tooltip built on hover out of what a row looks like', () => {
    const t = new TreeModel();
    const a = t.add(node('a', undefined, { tooltip: () => 'one' }));
    const u = new TreeModel();
    const b = u.add(node('a', undefined, { tooltip: () => 'two' }));
    assert.equal(nodeRenderKey(t, a), nodeRenderKey(u, b));
    const c = u.add(node('c', undefined, { tooltip: 'text' }));
    assert.match(nodeRenderKey(u, c), /"tooltip":"text"/);
  });
});
