import { StopNotice } from './stop-notice';

describe('StopNotice', () => {
  it('tells every listener once, and only those still listening', () => {
    const notice = new StopNotice();
    const heard: string[] = [];
    notice.listen(() => heard.push('a'));
    const leave = notice.listen(() => heard.push('b'));
    notice.listen(() => heard.push('c'));
    leave();
    expect(notice.stopped).toBe(false);
    notice.stop();
    notice.stop();
    expect(notice.stopped).toBe(true);
    expect(heard).toEqual(['a', 'c']);
  });

  it('calls a listener that joins after the stop at once', () => {
    const notice = new StopNotice();
    notice.stop();
    let heard = 0;
    const leave = notice.listen(() => heard++);
    leave();
    expect(heard).toBe(1);
  });

  it('keeps one function listening twice as two listeners', () => {
    const notice = new StopNotice();
    let heard = 0;
    const listener = () => heard++;
    const leaveFirst = notice.listen(listener);
    notice.listen(listener);
    leaveFirst();
    notice.stop();
    expect(heard).toBe(1);
  });
});
