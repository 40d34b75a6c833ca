// Sends the customer a notification (a Node.js function: the offline runner answers its task by mock config).
exports.handler = async (event) => ({ sent: true, orderId: event.orderId });
