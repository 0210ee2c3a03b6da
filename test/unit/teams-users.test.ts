import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserMri, usersIn } from '../../bot/teams/users.js';
import * as fake from '../fakes/teams/activities.js';

const ctx = fake.teamsContext({ serviceUrl: 'http://127.0.0.1:1/' });
const ADA = { tenantId: ctx.tenantId, aadObjectId: ctx.user.aadObjectId, mri: ctx.user.id };

describe('Teams users named by an activity', () => {
  it('takes the sender of a message or invoke, with its MRI, AAD id, tenant and name', () => {
    assert.deepEqual(usersIn(fake.message(ctx, { text: 'status' })), [
      { ...ADA, name: 'Ada Approver' },
    ]);
    const click = fake.actionInvoke(ctx, { verb: 'approve', activityId: '1' });
    assert.deepEqual(usersIn(click), [{ ...ADA, name: 'Ada Approver' }]);
  });

  it('takes members added (Teams sends them without names) and skips the bot', () => {
    const personal = { ...ctx, conversationId: 'a:1personal' };
    const install = fake.conversationUpdateInstall(personal);
    const bob = { id: '29:bob', aadObjectId: '0b0b0b0b-0000-4000-8000-000000000b0b' };
    install.membersAdded = [...(install.membersAdded ?? []), bob as never];
    assert.deepEqual(usersIn(install), [
      { ...ADA, name: 'Ada Approver' },
      { tenantId: ctx.tenantId, aadObjectId: bob.aadObjectId, mri: '29:bob' },
    ]);
  });

  it('names nobody without a tenant, an AAD id or a user MRI', () => {
    const noTenant = fake.message(ctx, { text: 'x' });
    delete noTenant.conversation?.tenantId;
    noTenant.channelData = {};
    assert.deepEqual(usersIn(noTenant), []);
    const anonymous = fake.message(ctx, { text: 'x' });
    anonymous.from = { id: ctx.user.id, name: 'Guest' };
    assert.deepEqual(usersIn(anonymous), []);
    const fromBot = fake.message(ctx, { text: 'x' });
    fromBot.from = { id: '28:other-bot', name: 'Bot', aadObjectId: 'x' };
    assert.deepEqual(usersIn(fromBot), []);
  });

  it('tells a user MRI from an AAD object id and a bot id', () => {
    assert.equal(isUserMri(ctx.user.id), true);
    assert.equal(isUserMri(ctx.user.aadObjectId), false);
    assert.equal(isUserMri('28:6f1c2d3e'), false);
    assert.equal(isUserMri('29:'), false);
    assert.equal(isUserMri(undefined), false);
  });
});
