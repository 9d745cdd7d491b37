/* work in progress: being written in this session */
extern int rostrum_wip_session;
