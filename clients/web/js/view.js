// Puts the room's regions together for one role. Observers get no control
// and no text input at all; delegates get their own panel and the message
// box; chairs get every moderation control.
import { el } from './dom.js';
import { createFloor } from './floor.js';
import { createDelegatePanel } from './delegate.js';
import { createQueue } from './queue.js';
import { createDiscussion } from './discussion.js';
import { createPeople } from './people.js';
import { createAgenda } from './agenda.js';
import { createFloorControls, createMeetingControls, createSettings, createStats, createRemoveDialog } from './chair.js';
import { renderErrors } from './errors.js';
import { createSchedulePanel, createSegment } from './timing.js';
import { createBalance } from './balance.js';
import { createStatements, createConclusions, createStatementForm, createInterpreterView, createRecordControls } from './record.js';

export function createRoomView(ctx, role) {
  const chair = role === 'moderator';
  const delegate = role === 'delegate';
  const interpreter = role === 'interpreter';
  const floor = createFloor(ctx);
  const parts = [floor];
  let dialog = null;
  if (chair) {
    const fc = createFloorControls(ctx);
    floor.slot.append(fc.node);
    parts.push(fc);
    dialog = createRemoveDialog(ctx);
    ctx.confirmRemove = (p, from) => dialog.open(p, from);
  }
  const me = delegate ? createDelegatePanel(ctx) : null;
  // contract 9.4, 9.5: statements and conclusions for everyone; the
  // delegate attaches one, the interpreter reads the coming ones
  const stmtForm = delegate ? createStatementForm(ctx) : null;
  if (me && stmtForm) me.node.append(stmtForm.node);
  const interp = interpreter ? createInterpreterView(ctx) : null;
  const statements = createStatements();
  const conclusions = createConclusions();
  const queue = createQueue(ctx, { chair });
  const discussion = createDiscussion(ctx, { role });
  const people = createPeople(ctx, { chair });
  const agenda = createAgenda(ctx);
  // contract 9.1/9.2: before the meeting, its start; during it, the segment
  const sched = createSchedulePanel(ctx);
  const segment = createSegment(ctx, { chair });
  parts.push(...[me, stmtForm, interp, queue, discussion, people, agenda, sched, segment, statements, conclusions].filter(Boolean));

  // Chair: the agenda sits with the discussion (the left column is long with
  // the floor controls); others: under the speakers list.
  const colA = el('div', { class: 'col col-a' }, sched.node, floor.node, segment.node, me && me.node, interp && interp.node, queue.node, chair ? null : agenda.node);
  const colB = el('div', { class: 'col col-b' }, conclusions.node, discussion.node, statements.node, people.node, chair ? agenda.node : null);
  let colC = null;
  if (chair) {
    const meeting = createMeetingControls(ctx);
    const settings = createSettings(ctx);
    const stats = createStats();
    const balance = createBalance(ctx);
    const record = createRecordControls(ctx);
    parts.push(meeting, settings, stats, balance, record);
    colC = el('div', { class: 'col col-c' }, meeting.node, record.node, balance.node, stats.node, settings.node);
  }
  const node = el('div', { class: `layout layout-${role}` }, colA, colB, colC, dialog && dialog.node);

  let first = true;
  return {
    node,
    update(s) {
      for (const p of parts) p.update(s);
      renderErrors(node, s);
      if (first) { first = false; discussion.scrollToEnd(); }
    },
    tick(s) { floor.tick(s); sched.tick(s); segment.tick(s); if (me && me.tick) me.tick(s); },
  };
}
